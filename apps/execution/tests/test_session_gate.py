"""No entries or exits are sent while the market is closed (the broker's clock, Alpaca stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.execution.models import Trade
from apps.execution.services import (
    ExecutionContext,
    SignalView,
    reconcile,
    signal_execute,
    trades_send_pending,
)

SATURDAY = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)
MONDAY = datetime(2024, 3, 11, 14, 0, tzinfo=UTC)  # 10:00 New York (DST began on the 10th)


@pytest.mark.django_db
def test_a_claim_waits_for_the_session_then_goes_out(alpaca_standin, redis_conn):
    from apps.execution.brokers.registry import make_broker

    alpaca_standin.clock_now = SATURDAY
    alpaca_standin.set_price("AAPL", "170.00")
    later = [timezone.now() + timedelta(minutes=1)]
    ctx = ExecutionContext(
        broker=make_broker("alpaca"),
        label="alpaca",
        publish=False,
        clock=lambda: later[0],
        wall=lambda: later[0],
    )
    sig = SignalView(
        None, "AAPL", "long", 0.8, SATURDAY - timedelta(hours=20), Decimal(170), "momentum"
    )
    trade = signal_execute(ctx, signal=sig, atr=3.0)
    assert trade is not None and trade.status == Trade.Status.NEW and trade.submitted_at is None
    assert alpaca_standin.count("POST", "/v2/orders") == 0
    assert reconcile(ctx).lost == []  # never attempted: not lost, still pending
    alpaca_standin.clock_now = MONDAY
    assert trades_send_pending(ctx) == 1
    trade.refresh_from_db()
    assert trade.status in {Trade.Status.ACCEPTED, Trade.Status.FILLED}
    assert alpaca_standin.count("POST", "/v2/orders", 200) == 1


@pytest.mark.django_db
def test_a_claim_too_old_for_the_next_session_expires(alpaca_standin, redis_conn):
    from apps.execution.brokers.registry import make_broker

    alpaca_standin.clock_now = SATURDAY
    alpaca_standin.set_price("MSFT", "400.00")
    ctx = ExecutionContext(broker=make_broker("alpaca"), label="alpaca", publish=False)
    old = SignalView(None, "MSFT", "long", 0.8, SATURDAY - timedelta(days=5), Decimal(400), "")
    trade = signal_execute(ctx, signal=old, atr=5.0)
    assert trade is not None and trade.status == Trade.Status.EXPIRED
    assert alpaca_standin.count("POST", "/v2/orders") == 0
