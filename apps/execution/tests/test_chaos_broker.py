"""The fault suite's flaky simulated broker: fault windows, the request log, the shared budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.ratelimit import TokenBucket
from apps.execution.brokers import chaos
from apps.execution.brokers.base import (
    OrderRequest,
    OrderSide,
    RateLimitedError,
    TransientBrokerError,
)
from apps.execution.brokers.simulated import MemoryStore


@pytest.fixture
def broker(redis_conn):
    return chaos.ChaosSimulatedBroker(
        client=redis_conn,
        bucket=TokenBucket.per_minute(redis_conn, "ratelimit:test", 200),
        max_wait_s=1.0,
        store=MemoryStore(),
    )


def order(cid: str) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1))


def test_429_and_5xx_windows_refuse_without_placing(broker, redis_conn):
    chaos.fault_set(redis_conn, "429", 60)
    with pytest.raises(RateLimitedError) as err:
        broker.submit_order(order("a"))
    assert err.value.retry_after_s == 1.0
    chaos.fault_set(redis_conn, "5xx", 60)
    with pytest.raises(TransientBrokerError, match="HTTP 503"):
        broker.open_orders()
    chaos.fault_clear(redis_conn)
    assert broker.get_order_by_client_id("a") is None  # nothing was placed


def test_a_timeout_places_the_order_and_loses_the_answer(broker, redis_conn):
    chaos.fault_set(redis_conn, "timeout", 60)
    with pytest.raises(TransientBrokerError, match="after the order was sent"):
        broker.submit_order(order("b"))
    chaos.fault_clear(redis_conn)
    placed = broker.get_order_by_client_id("b")
    assert placed is not None and placed.client_order_id == "b"


def test_partial_window_caps_participation(broker, redis_conn):
    assert broker.max_participation is None
    chaos.fault_set(redis_conn, "partial", 60)
    assert broker.max_participation == chaos.PARTIAL_PARTICIPATION


def test_every_request_is_logged_and_counted_per_minute(broker, redis_conn):
    for _ in range(5):
        broker.open_orders()
    broker.account()  # reads are not metered
    assert chaos.calls_per_window(redis_conn) == 5
    redis_conn.zadd(chaos.CALLS_KEY, {"old-1": 1.0, "old-2": 2.0})  # long ago: another minute
    assert chaos.calls_per_window(redis_conn) == 5


def test_unknown_fault_is_refused(redis_conn):
    with pytest.raises(ValueError, match="unknown broker fault"):
        chaos.fault_set(redis_conn, "fire", 1)
