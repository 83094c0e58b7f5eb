"""The simulated broker: order types against bars as a scenario table, costs, state, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.execution.brokers.base import (
    OrderNotFoundError,
    OrderRejectedError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from apps.execution.brokers.registry import make_broker
from apps.execution.brokers.simulated import RedisStore, SimulatedBroker, memory_broker
from apps.execution.costs import BpsSlippage, PerShareCommission

T0 = datetime(2017, 3, 1, 14, 30, tzinfo=UTC)


def bar(i: int, o, h, l, c, v=1_000_000):  # noqa: E741
    return {
        "time": T0 + timedelta(days=i),
        "open": D(str(o)),
        "high": D(str(h)),
        "low": D(str(l)),
        "close": D(str(c)),
        "volume": D(v),
    }


def req(cid, side="buy", qty=10, type_=OrderType.MARKET, tif="day", **kw):
    return OrderRequest(
        client_order_id=cid,
        symbol="X",
        side=OrderSide(side),
        qty=D(qty),
        type=type_,
        time_in_force=tif,
        **kw,
    )


# (order, bars after it, expected status, expected fill price)
SCENARIOS = [
    pytest.param(
        req("m"), [bar(1, 101, 103, 99, 102)], "filled", D("101"), id="market fills at next open"
    ),
    pytest.param(
        req("l1", type_=OrderType.LIMIT, limit_price=D("99.5")),
        [bar(1, 101, 103, 99, 102)],
        "filled",
        D("99.5"),
        id="buy limit touched",
    ),
    pytest.param(
        req("l2", type_=OrderType.LIMIT, limit_price=D("102")),
        [bar(1, 101, 103, 99, 102)],
        "filled",
        D("101"),
        id="buy limit: open better than limit",
    ),
    pytest.param(
        req("l3", type_=OrderType.LIMIT, limit_price=D("98")),
        [bar(1, 101, 103, 99, 102)],
        "expired",
        None,
        id="day limit not reached expires",
    ),
    pytest.param(
        req("l4", type_=OrderType.LIMIT, limit_price=D("98"), tif="gtc"),
        [bar(1, 101, 103, 99, 102), bar(2, 99, 99, 97, 98)],
        "filled",
        D("98"),
        id="gtc limit rests then fills",
    ),
    pytest.param(
        req("s1", side="sell", type_=OrderType.STOP, stop_price=D("99.5"), tif="gtc"),
        [bar(1, 101, 103, 99, 102)],
        "filled",
        D("99.5"),
        id="sell stop triggered intrabar",
    ),
    pytest.param(
        req("s2", side="sell", type_=OrderType.STOP, stop_price=D("99.5"), tif="gtc"),
        [bar(1, 97, 98, 96, 97)],
        "filled",
        D("97"),
        id="sell stop gapped through: fills at open",
    ),
    pytest.param(
        req("s3", side="sell", type_=OrderType.STOP, stop_price=D("90"), tif="gtc"),
        [bar(1, 101, 103, 99, 102)],
        "accepted",
        None,
        id="sell stop not reached rests",
    ),
    pytest.param(
        req("s4", type_=OrderType.STOP, stop_price=D("102.5")),
        [bar(1, 101, 103, 99, 102)],
        "filled",
        D("102.5"),
        id="buy stop",
    ),
    pytest.param(
        req(
            "sl",
            side="sell",
            type_=OrderType.STOP_LIMIT,
            stop_price=D("99.5"),
            limit_price=D("99.2"),
            tif="gtc",
        ),
        [bar(1, 101, 103, 99, 102)],
        "filled",
        D("99.5"),
        id="stop-limit",
    ),
    pytest.param(
        req("t1", side="sell", type_=OrderType.TRAILING_STOP, trail_percent=D("5"), tif="gtc"),
        [bar(1, 100, 110, 99, 109), bar(2, 109, 109, 104, 105), bar(3, 105, 106, 103, 104)],
        "filled",
        D("104.5"),
        id="trailing stop ratchets to the high (110 * 0.95)",
    ),
    pytest.param(
        req("t2", side="sell", type_=OrderType.TRAILING_STOP, trail_percent=D("5"), tif="gtc"),
        [bar(1, 100, 101, 96, 100)],
        "accepted",
        None,
        id="trailing stop not hit on its own first bar's high",
    ),
]


@pytest.mark.parametrize(("request_", "bars", "status", "price"), SCENARIOS)
def test_order_types(request_, bars, status, price):
    b = memory_broker(initial_cash=100_000)
    b.on_bar("X", **bar(0, 100, 100, 100, 100))  # the decision bar: sets the last price
    order = b.submit_order(request_)
    assert order.status == OrderStatus.ACCEPTED
    for x in bars:
        b.on_bar("X", **x)
    got = b.get_order(order.broker_order_id)
    assert got.status == OrderStatus(status)
    assert got.filled_avg_price == price


def test_costs_and_account():
    b = memory_broker(
        initial_cash=10_000,
        commission=PerShareCommission(per_share=D("0.01"), minimum=D("1")),
        slippage=BpsSlippage(bps=D("10")),
    )
    b.on_bar("X", **bar(0, 100, 100, 100, 100))
    o = b.submit_order(req("c", qty=50))
    b.on_bar("X", **bar(1, 100, 101, 99, 101))
    got = b.get_order(o.broker_order_id)
    assert got.filled_avg_price == D("100.1")  # 10 bps worse than the open
    assert got.commission == D("1")  # 50 * 0.01 = 0.5, minimum 1
    acct = b.account()
    assert acct.cash == D("10000") - D("5005") - D("1")
    assert acct.equity == acct.cash + 50 * D("101")
    (pos,) = b.positions()
    assert (pos.symbol, pos.qty, pos.avg_entry_price) == ("X", D(50), D("100.1"))
    s = b.submit_order(req("c2", side="sell", qty=50))
    b.on_bar("X", **bar(2, 102, 102, 102, 102))
    assert b.get_order(s.broker_order_id).filled_avg_price == D("101.898")
    assert b.positions() == []


def test_partial_fills_with_participation_cap():
    b = memory_broker(max_participation="0.01")
    b.on_bar("X", **bar(0, 100, 100, 100, 100))
    o = b.submit_order(req("p", qty=250))
    b.on_bar("X", **bar(1, 100, 100, 100, 100, v=10_000))  # 1% of 10k = 100
    assert b.get_order(o.broker_order_id).status == OrderStatus.PARTIALLY_FILLED
    assert b.get_order(o.broker_order_id).filled_qty == D(100)
    b.on_bar("X", **bar(2, 110, 110, 110, 110, v=10_000))
    b.on_bar("X", **bar(3, 120, 120, 120, 120, v=10_000))
    got = b.get_order(o.broker_order_id)
    assert got.status == OrderStatus.FILLED
    assert got.filled_avg_price == D("108")  # (100*100 + 100*110 + 50*120) / 250


def test_duplicate_client_id_cancel_replace_and_errors():
    b = memory_broker()
    b.on_bar("X", **bar(0, 100, 100, 100, 100))
    o = b.submit_order(req("d", type_=OrderType.LIMIT, limit_price=D("90"), tif="gtc"))
    with pytest.raises(OrderRejectedError):
        b.submit_order(req("d"))
    assert b.get_order_by_client_id("d") == b.get_order(o.broker_order_id)
    assert b.get_order_by_client_id("nope") is None
    r = b.replace_order(o.broker_order_id, limit_price=D("95"), qty=D(5))
    assert (r.limit_price, r.qty) == (D("95"), D(5))
    assert [x.broker_order_id for x in b.open_orders()] == [o.broker_order_id]
    b.cancel_order(o.broker_order_id)
    assert b.get_order(o.broker_order_id).status == OrderStatus.CANCELED
    with pytest.raises(OrderRejectedError):
        b.cancel_order(o.broker_order_id)
    with pytest.raises(OrderNotFoundError):
        b.get_order("sim-missing")
    with pytest.raises(OrderRejectedError):
        b.submit_order(req("big", qty=10_000))  # 1M > 100k cash


def test_the_same_bar_twice_never_fills_twice():
    b = memory_broker()
    b.on_bar("X", **bar(0, 100, 100, 100, 100))
    b.submit_order(req("once", qty=10))
    b.on_bar("X", **bar(1, 100, 100, 100, 100))
    b.submit_order(req("twice", qty=10))
    assert b.on_bar("X", **bar(1, 100, 100, 100, 100)) == []  # a retried tick
    assert b.positions()[0].qty == D(10)


def test_updates_are_pushed_to_subscribers():
    b = memory_broker()
    seen = []
    b.subscribe_updates(lambda u: seen.append((u.event, u.order.status)))
    b.on_bar("X", **bar(0, 100, 100, 100, 100))
    b.submit_order(req("u"))
    b.on_bar("X", **bar(1, 100, 100, 100, 100))
    assert seen == [("new", OrderStatus.ACCEPTED), ("fill", OrderStatus.FILLED)]


def test_state_survives_a_restart_in_redis(redis_conn):
    """A new broker object (a restarted worker) sees the same orders, positions and cash."""
    first = SimulatedBroker(store=RedisStore(redis_conn, "simbroker:t"), initial_cash=50_000)
    first.on_bar("X", **bar(0, 100, 100, 100, 100))
    o = first.submit_order(req("r", qty=20))
    first.submit_order(
        req("r-stop", side="sell", qty=20, type_=OrderType.STOP, stop_price=D("80"), tif="gtc")
    )
    first.on_bar("X", **bar(1, 100, 100, 100, 100))
    del first
    second = SimulatedBroker(store=RedisStore(redis_conn, "simbroker:t"), initial_cash=1)
    assert second.get_order(o.broker_order_id).status == OrderStatus.FILLED
    assert second.get_order_by_client_id("r") is not None
    assert [x.client_order_id for x in second.open_orders()] == ["r-stop"]
    assert second.account().cash == D("48000")
    second.reset(cash=1000)
    assert second.open_orders() == [] and second.account().cash == D("1000")


def test_registry_builds_it():
    b = make_broker("simulated")
    assert isinstance(b, SimulatedBroker) and b.kind == "simulated"
    assert b.clock().is_open


def test_quotes_fill_market_orders_across_the_spread():
    b = memory_broker()
    b.on_quote("X", time=T0, bid="99.90", ask="100.10")
    buy = b.submit_order(req("qb", qty=10))
    sell_limit = b.submit_order(
        req("ql", side="sell", qty=5, type_=OrderType.LIMIT, limit_price=D("100.50"), tif="gtc")
    )
    b.on_quote("X", time=T0 + timedelta(seconds=1), bid="100.00", ask="100.20")
    assert b.get_order(buy.broker_order_id).filled_avg_price == D("100.20")  # paid the ask
    assert b.get_order(sell_limit.broker_order_id).status == OrderStatus.ACCEPTED  # bid < limit
    b.on_quote("X", time=T0 + timedelta(seconds=2), bid="100.60", ask="100.70")
    assert b.get_order(sell_limit.broker_order_id).filled_avg_price == D("100.60")
    assert b.positions()[0].qty == D(5)
