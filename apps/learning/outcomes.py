"""Trade outcomes (pure): what a closed position earned, from its entry and exit fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from apps.execution.ledger import roi as ledger_roi
from apps.execution.ledger import round_trip_pnl

MONEY = Decimal("0.0001")
ROI_PCT_DECIMALS = 8  # a stored outcome's ROI in percent; learning reads it back as a fraction


@dataclass(frozen=True, slots=True)
class FilledOrder:
    """An entry or exit order as filled: side ``buy``/``sell``, absolute quantity, average price."""

    side: str
    qty: Decimal
    price: Decimal
    at: datetime
    commission: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OutcomeValues:
    hold_duration: timedelta
    realized_pnl: Decimal  # money, 4 dp
    roi_pct: float  # realised P&L over the entry's cost basis, in percent
    was_profitable: bool


def outcome_compute(
    *, entry: FilledOrder, exit: FilledOrder, realized_pnl: Decimal | None = None
) -> OutcomeValues:
    """Hold time, realised P&L, ROI % and profitability of a round trip.

    ``realized_pnl`` is the broker's/execution's figure when it has one (it knows partial fills
    and fees best); otherwise it is computed as ``sign · (exit − entry) · qty − commissions``
    where ``sign`` is +1 for a long (entry buy) and −1 for a short, and ``qty`` is the quantity
    the exit closed. The cost basis for ROI is ``entry price · qty``.
    """
    qty = min(abs(entry.qty), abs(exit.qty)) if exit.qty else abs(entry.qty)
    signed = qty if entry.side == "buy" else -qty
    if realized_pnl is None:
        realized_pnl = round_trip_pnl(
            qty=signed,
            entry_price=entry.price,
            exit_price=exit.price,
            fees=entry.commission + exit.commission,
        )
    pnl = realized_pnl.quantize(MONEY)
    roi = 100 * ledger_roi(pnl=pnl, qty=signed, entry_price=abs(entry.price))
    # Clocks of two fills may disagree by a hair; a hold is never negative.
    hold = max(exit.at - entry.at, timedelta(0))
    return OutcomeValues(
        hold_duration=hold,
        realized_pnl=pnl,
        roi_pct=round(roi, ROI_PCT_DECIMALS),
        was_profitable=pnl > 0,
    )
