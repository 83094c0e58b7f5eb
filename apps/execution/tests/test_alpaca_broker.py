"""The Alpaca adapter through alpaca-py against the local stand-in (no mocks of our code)."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest

from apps.core.ratelimit import ThrottledError, TokenBucket
from apps.execution.brokers.alpaca import AlpacaBroker, DuplicateClientOrderIdError
from apps.execution.brokers.base import (
    OrderNotFoundError,
    OrderRejectedError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    RateLimitedError,
    TransientBrokerError,
)
from apps.execution.brokers.registry import make_broker
from conftest import wait_for
from tests.standins.alpaca.fixtures import alpaca_standin  # noqa: F401


@pytest.fixture
def bucket(redis_conn):
    return TokenBucket(redis_conn, f"test:alpaca:{uuid.uuid4()}", capacity=1000, refill_per_s=1000)


@pytest.fixture
def broker(alpaca_standin, bucket):  # noqa: F811
    b = AlpacaBroker(bucket=bucket, timeout_s=2, retry_budget_s=5, max_wait_s=1)
    yield b
    b.close()


def req(cid: str | None = None, **kw: Any) -> OrderRequest:
    base: dict[str, Any] = {
        "client_order_id": cid or f"sig-{uuid.uuid4().hex[:12]}",
        "symbol": "AAPL",
        "side": OrderSide.BUY,
        "qty": Decimal(10),
    }
    return OrderRequest(**(base | kw))


def test_registry_builds_the_adapter_from_settings(alpaca_standin, redis_conn):  # noqa: F811
    broker = make_broker("alpaca")
    assert isinstance(broker, AlpacaBroker)
    assert broker.clock().timestamp is not None
    assert alpaca_standin.count("GET", "/v2/clock", 200) == 1


def test_market_order_fills_and_shows_in_positions_and_account(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.set_price("AAPL", "150.00")
    placed = broker.submit_order(req("sig-1"))
    assert placed.client_order_id == "sig-1"
    assert placed.status is OrderStatus.ACCEPTED  # Alpaca answers before the fill
    order = broker.get_order(placed.broker_order_id)
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == Decimal(10) and order.filled_avg_price == Decimal(150)
    assert broker.get_order_by_client_id("sig-1") == order
    [pos] = broker.positions()
    assert (pos.symbol, pos.qty, pos.avg_entry_price) == ("AAPL", Decimal(10), Decimal(150))
    account = broker.account()
    assert account.cash == Decimal(100_000 - 1500)
    assert account.equity == Decimal(100_000)
    assert broker.open_orders() == []


def test_short_position_has_negative_qty(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.set_price("MSFT", 50)
    broker.submit_order(req(symbol="MSFT", side=OrderSide.SELL, qty=Decimal(4)))
    [pos] = broker.positions()
    assert pos.qty == Decimal(-4)


def test_limit_order_replace_then_cancel(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.set_price("AAPL", 150)
    placed = broker.submit_order(req(type=OrderType.LIMIT, limit_price=Decimal("140.004")))
    assert placed.limit_price == Decimal("140")  # rounded to Alpaca's 2 decimals
    assert [o.broker_order_id for o in broker.open_orders()] == [placed.broker_order_id]
    new = broker.replace_order(placed.broker_order_id, limit_price=Decimal("145"), qty=Decimal(5))
    assert new.broker_order_id != placed.broker_order_id
    assert (new.limit_price, new.qty) == (Decimal(145), Decimal(5))
    assert broker.get_order(placed.broker_order_id).status is OrderStatus.CANCELED  # replaced
    broker.cancel_order(new.broker_order_id)
    assert broker.get_order(new.broker_order_id).status is OrderStatus.CANCELED
    assert broker.open_orders() == []
    with pytest.raises(OrderRejectedError):  # already canceled: Alpaca answers 422
        broker.cancel_order(new.broker_order_id)


def test_limit_order_fills_when_the_market_reaches_it(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.set_price("AAPL", 150)
    placed = broker.submit_order(req(type=OrderType.LIMIT, limit_price=Decimal(149)))
    assert broker.get_order(placed.broker_order_id).status is OrderStatus.ACCEPTED
    alpaca_standin.set_price("AAPL", 148.5)
    order = broker.get_order(placed.broker_order_id)
    assert order.status is OrderStatus.FILLED and order.filled_avg_price == Decimal("148.5")


@pytest.mark.parametrize(
    ("kind", "extra", "body"),
    [
        (OrderType.STOP, {"stop_price": Decimal(160)}, {"stop_price": "160"}),
        (
            OrderType.STOP_LIMIT,
            {"stop_price": Decimal(160), "limit_price": Decimal(161)},
            {"stop_price": "160", "limit_price": "161"},
        ),
        (OrderType.TRAILING_STOP, {"trail_percent": Decimal(2)}, {"trail_percent": "2"}),
    ],
)
def test_every_order_type_reaches_alpaca(alpaca_standin, broker, kind, extra, body):  # noqa: F811
    alpaca_standin.set_price("AAPL", 150)
    placed = broker.submit_order(req(type=kind, side=OrderSide.BUY, **extra))
    assert placed.type is kind and placed.status is OrderStatus.ACCEPTED
    raw = alpaca_standin.broker.get(placed.broker_order_id)
    assert {k: raw[k] for k in body} == body


def test_stop_order_triggers(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.set_price("AAPL", 150)
    broker.submit_order(req(qty=Decimal(2)))  # a position to protect
    stop = broker.submit_order(
        req(side=OrderSide.SELL, qty=Decimal(2), type=OrderType.STOP, stop_price=Decimal(140))
    )
    alpaca_standin.set_price("AAPL", 139)
    assert broker.get_order(stop.broker_order_id).status is OrderStatus.FILLED
    assert broker.positions() == []


def test_duplicate_client_order_id_returns_the_existing_order(alpaca_standin, broker):  # noqa: F811
    first = broker.submit_order(req("sig-dup"))
    again = broker.submit_order(req("sig-dup"))  # e.g. a redelivered message, a restarted worker
    assert again.broker_order_id == first.broker_order_id
    assert alpaca_standin.count("POST", "/v2/orders", 422) == 1  # Alpaca refused the duplicate
    assert len(alpaca_standin.broker.orders) == 1
    with pytest.raises(DuplicateClientOrderIdError):  # same id, different order: never merged
        broker.submit_order(req("sig-dup", qty=Decimal(3)))


def test_429_is_retried_within_the_budget(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.inject(status=429, times=2, retry_after_s=0, method="POST", path="/v2/orders")
    placed = broker.submit_order(req("sig-429"))
    assert placed.client_order_id == "sig-429"
    assert alpaca_standin.count("POST", "/v2/orders", 429) == 2
    assert alpaca_standin.count("POST", "/v2/orders", 200) == 1
    assert len(alpaca_standin.broker.orders) == 1


def test_429_beyond_the_budget_raises_rate_limited(alpaca_standin, bucket):  # noqa: F811
    broker = AlpacaBroker(bucket=bucket, timeout_s=2, retry_budget_s=1, max_wait_s=1)
    alpaca_standin.inject(status=429, times=5, retry_after_s=30)
    with pytest.raises(RateLimitedError) as info:
        broker.account()
    assert info.value.retry_after_s == 30
    assert (
        alpaca_standin.count("GET", "/v2/account", 429) == 1
    )  # a 30 s wait would break the budget


def test_5xx_maps_to_transient_and_reads_are_retried(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.inject(status=503, times=1, path="/v2/account")
    assert broker.account().equity == Decimal(100_000)
    assert alpaca_standin.count("GET", "/v2/account", 503) == 1
    alpaca_standin.inject(status=500, times=1, method="PATCH")
    placed = broker.submit_order(req(type=OrderType.LIMIT, limit_price=Decimal(1)))
    with pytest.raises(TransientBrokerError):  # a replace is never blindly retried
        broker.replace_order(placed.broker_order_id, limit_price=Decimal(2))
    assert alpaca_standin.count("PATCH") == 1


def test_timeout_maps_to_transient(alpaca_standin, bucket):  # noqa: F811
    broker = AlpacaBroker(bucket=bucket, timeout_s=0.3, retry_budget_s=0, max_wait_s=1)
    alpaca_standin.inject(hang_s=3, times=1, path="/v2/clock")
    with pytest.raises(TransientBrokerError):
        broker.clock()


def test_submit_timeout_is_retried_without_a_second_order(alpaca_standin, bucket):  # noqa: F811
    broker = AlpacaBroker(bucket=bucket, timeout_s=0.3, retry_budget_s=10, max_wait_s=1)
    # The first POST hangs past the client's timeout but is processed afterwards, like a slow API.
    alpaca_standin.inject(hang_s=0.6, times=1, method="POST", path="/v2/orders")
    placed = broker.submit_order(req("sig-slow"))
    assert placed.client_order_id == "sig-slow"
    wait_for(lambda: alpaca_standin.count("POST", "/v2/orders") >= 2, timeout=10)
    assert [o.client_order_id for o in alpaca_standin.broker.orders.values()] == ["sig-slow"]


def test_not_found_and_rejections(alpaca_standin, broker):  # noqa: F811
    with pytest.raises(OrderNotFoundError):
        broker.get_order(str(uuid.uuid4()))
    assert broker.get_order_by_client_id("never-sent") is None
    alpaca_standin.broker.fill_mode = "reject"
    with pytest.raises(OrderRejectedError):
        broker.submit_order(req())
    alpaca_standin.broker.fill_mode = "fill"
    with pytest.raises(OrderRejectedError, match="buying power"):
        broker.submit_order(req(qty=Decimal(10_000)))


def test_partial_fills(alpaca_standin, broker):  # noqa: F811
    alpaca_standin.broker.fill_mode = "partial"
    placed = broker.submit_order(req(qty=Decimal(10)))
    order = broker.get_order(placed.broker_order_id)
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled_qty == Decimal(5)
    assert [o.broker_order_id for o in broker.open_orders()] == [placed.broker_order_id]
    alpaca_standin.broker.fill(placed.broker_order_id)
    assert broker.get_order(placed.broker_order_id).status is OrderStatus.FILLED


def test_trade_updates_stream(alpaca_standin, broker):  # noqa: F811
    seen: list[OrderUpdate] = []
    threads: set[str] = set()

    def on_update(update: OrderUpdate) -> None:
        threads.add(threading.current_thread().name)
        seen.append(update)

    broker.subscribe_updates(on_update)
    wait_for(lambda: alpaca_standin.subscribers() == 1, timeout=10)
    alpaca_standin.broker.fill_mode = "partial"
    placed = broker.submit_order(req("sig-stream", qty=Decimal(4)))
    alpaca_standin.broker.fill(placed.broker_order_id, price=Decimal("101.5"))
    wait_for(lambda: len(seen) >= 3, timeout=10)
    assert [u.event for u in seen] == ["new", "partial_fill", "fill"]
    assert [u.order.status for u in seen] == [
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    assert seen[2].qty == Decimal(2) and seen[2].price == Decimal("101.5")
    assert all(u.order.client_order_id == "sig-stream" for u in seen)
    assert "alpaca-trade-updates" not in threads  # the callback runs off the event loop


def test_every_request_takes_a_token_from_the_shared_bucket(alpaca_standin, redis_conn):  # noqa: F811
    small = TokenBucket(redis_conn, f"test:alpaca:{uuid.uuid4()}", capacity=3, refill_per_s=0.001)
    broker = AlpacaBroker(bucket=small, timeout_s=2, retry_budget_s=0, max_wait_s=0)
    broker.clock()
    broker.account()
    broker.positions()
    with pytest.raises(ThrottledError):
        broker.open_orders()
    assert len(alpaca_standin.requests) == 3  # the fourth never left the process
