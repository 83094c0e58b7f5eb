"""Per-strategy statistics and portfolio figures (pure: no ORM, no broker).

* A strategy's **trades** are the outcomes it took part in (non-zero attribution share); a
  **win** is one where its credit ``share · ROI`` was positive (it voted for a winner or against
  a loser); its **P&L** is the sum of its credited P&L ``share · realised P&L``.
* Its **Sharpe** ratio is empyrical's annualised Sharpe of its daily credited returns
  (``Σ share · ROI`` per UTC day of closing), ``None`` with fewer than two days or no variance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from apps.learning.numbers import to_decimal

MONEY = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    closed_at: datetime
    roi: float  # fraction
    pnl: Decimal
    shares: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StrategyStats:
    trades: int
    wins: int
    win_rate: float
    pnl: Decimal
    sharpe: float | None


def strategy_stats(*, rows: Sequence[OutcomeRow], strategy: str) -> StrategyStats:
    trades = wins = 0
    pnl = Decimal(0)
    daily: dict[date, float] = {}
    for row in rows:
        share = row.shares.get(strategy, 0.0)
        if share == 0.0:
            continue
        trades += 1
        credit = share * row.roi
        wins += int(credit > 0)
        pnl += to_decimal(share) * row.pnl
        day = row.closed_at.date()
        daily[day] = daily.get(day, 0.0) + credit
    return StrategyStats(
        trades=trades,
        wins=wins,
        win_rate=wins / trades if trades else 0.0,
        pnl=pnl.quantize(MONEY),
        sharpe=sharpe_daily([daily[d] for d in sorted(daily)]),
    )


def sharpe_daily(returns: Sequence[float]) -> float | None:
    """Annualised Sharpe ratio of daily returns (empyrical-reloaded), ``None`` when undefined."""
    if len(returns) < 2:
        return None
    import empyrical  # noqa: PLC0415 - heavy (pandas, scipy): only reports need it

    value = float(empyrical.sharpe_ratio(np.asarray(returns, dtype=float)))
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class LedgerFill:
    side: str  # buy | sell
    qty: Decimal
    price: Decimal
    commission: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarkedHolding:
    qty: Decimal  # signed
    mark: Decimal  # last price (or entry price when no price is known)


@dataclass(frozen=True, slots=True)
class PortfolioFigures:
    value: Decimal
    cash: Decimal
    exposure: Decimal  # gross: Σ |qty · mark|


def portfolio_from_ledger(
    *, initial_cash: Decimal, fills: Iterable[LedgerFill], holdings: Iterable[MarkedHolding]
) -> PortfolioFigures:
    """Cash from the starting capital and every fill; value = cash + marked positions."""
    cash = initial_cash
    for f in fills:
        notional = f.qty * f.price
        cash += notional if f.side == "sell" else -notional
        cash -= f.commission
    held = list(holdings)
    market = sum((h.qty * h.mark for h in held), Decimal(0))
    exposure = sum((abs(h.qty * h.mark) for h in held), Decimal(0))
    return PortfolioFigures(
        value=(cash + market).quantize(MONEY),
        cash=cash.quantize(MONEY),
        exposure=exposure.quantize(MONEY),
    )


def drawdown_compute(*, value: Decimal, peak: Decimal | None) -> float:
    """Fraction below the running peak (the peak includes ``value``), ``>= 0``."""
    top = value if peak is None else max(peak, value)
    if top <= 0:
        return 0.0
    return float(max(Decimal(0), (top - value) / top))
