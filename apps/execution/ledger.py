"""The one ledger rule for P&L and ROI (pure; ``Decimal`` live, ``float`` in the backtester).

- a fill that reduces a position realises ``(price − avg entry) · closed qty · direction``;
- a round trip's P&L is that, net of both legs' commissions;
- ROI is the P&L over the entry's cost basis ``|qty| · entry price`` (0 for no basis);
- fill prices and fees are booked to ``BOOKING_DECIMALS`` (half-even) by the simulated broker, and
  by a backtest configured to book as it does.

The execution services (positions), the learning outcomes and the backtester (trades, open
positions at the end) all call these.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

N = TypeVar("N", Decimal, float)

BOOKING_DECIMALS = 4  # the simulated broker books fill prices and fees to this many decimals


def book_amount(x: N, decimals: int = BOOKING_DECIMALS) -> N:
    """A fill price or fee as booked: half-even to ``decimals`` (the broker's ``_q``)."""
    q = Decimal(1).scaleb(-decimals)
    if isinstance(x, Decimal):
        return x.quantize(q, rounding=ROUND_HALF_EVEN)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_EVEN))


def realised_pnl(*, qty: N, entry_price: N, exit_price: N) -> N:
    """Gross P&L of closing ``qty`` (signed: + long, − short) opened at ``entry_price``."""
    return (exit_price - entry_price) * qty


def round_trip_pnl(*, qty: N, entry_price: N, exit_price: N, fees: N) -> N:
    """Net P&L of a round trip: gross minus both legs' commissions."""
    return realised_pnl(qty=qty, entry_price=entry_price, exit_price=exit_price) - fees


def cost_basis(*, qty: N, entry_price: N) -> N:
    return abs(qty) * entry_price


def roi(*, pnl: N, qty: N, entry_price: N) -> float:
    """Return on the cost basis, as a fraction (0 when there is no basis)."""
    basis = cost_basis(qty=qty, entry_price=entry_price)
    return float(pnl / basis) if basis else 0.0
