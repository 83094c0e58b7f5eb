"""Fixtures of the learning tests: seeded strategies and round trips written as real rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from itertools import count
from typing import Any

import pytest

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
_ids = count(1)


@pytest.fixture
def strategies(db):
    """The three default strategies at the seeded weights (1/3 each, 8 dp)."""
    from apps.strategies.models import Strategy
    from apps.strategies.seed import strategies_seed

    strategies_seed()
    return {s.name: s for s in Strategy.objects.all()}


def round_trip(
    *,
    ticker: str = "AAPL",
    direction: str = "long",
    sources: list[dict[str, Any]] | None = None,
    entry_px: str = "100",
    exit_px: str = "110",
    qty: str = "10",
    opened: datetime = T0,
    held: timedelta = timedelta(days=2),
    broker: str = "simulated",
):
    """A signal, its filled entry trade and a filled exit trade (no outcome yet)."""
    from apps.execution.models import Trade
    from apps.strategies.models import Signal

    n = next(_ids)
    signal = Signal.objects.create(
        ticker=ticker,
        direction=direction,
        strength=0.7,
        strategy_sources=sources or [],
        decided_at=opened + timedelta(seconds=n),
        acted_on=True,
    )
    entry_side, exit_side = ("buy", "sell") if direction == "long" else ("sell", "buy")
    entry = Trade.objects.create(
        ticker=ticker,
        side=entry_side,
        qty=D(qty),
        filled_qty=D(qty),
        price=D(entry_px),
        purpose=Trade.Purpose.ENTRY,
        status=Trade.Status.FILLED,
        timestamp=opened,
        filled_at=opened + timedelta(minutes=1),
        signal=signal,
        broker=broker,
        client_order_id=f"h6-entry-{n}",
    )
    exit_ = Trade.objects.create(
        ticker=ticker,
        side=exit_side,
        qty=D(qty),
        filled_qty=D(qty),
        price=D(exit_px),
        purpose=Trade.Purpose.EXIT,
        status=Trade.Status.FILLED,
        timestamp=opened + held,
        filled_at=opened + held + timedelta(minutes=1),
        broker=broker,
        client_order_id=f"h6-exit-{n}",
    )
    return signal, entry, exit_


def outcome_row(*, roi_pct: float, shares: dict[str, float], closed_at: datetime, pnl: str = "0"):
    """A TradeOutcome written directly (with its two trades), for cycle and report tests."""
    from apps.learning.models import TradeOutcome

    _, entry, exit_ = round_trip(opened=closed_at - timedelta(days=1))
    return TradeOutcome.objects.create(
        trade=entry,
        exit_trade=exit_,
        ticker=entry.ticker,
        hold_duration=timedelta(days=1),
        realized_pnl=D(pnl),
        roi_pct=roi_pct,
        was_profitable=roi_pct > 0,
        attribution=shares,
        closed_at=closed_at,
    )
