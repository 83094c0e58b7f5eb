"""Risk (pure): position sizing, stop-losses, exposure limits, loss limits, entry/exit decisions.

No ORM, no clock, no broker: the live services and the backtester pass plain values in and get an
:class:`OrderIntent` (or a reason for none) out. Floats throughout (the backtester's hot loop);
the services turn quantities and prices into Decimals at the broker boundary.

Limits enforced at decision time, with ``fill_buffer`` head-room for the next bar's gap:
- a new position's value <= ``max_position_pct`` x equity;
- gross exposure (sum of |qty| x price) after the entry <= ``max_exposure_pct`` x equity;
- open positions <= ``max_open_positions``;
- long entries never cost more than the cash available;
- no entries while HALTED (daily-loss / drawdown limit hit, or reconciliation disagreeing) or
  PAUSED (kill switch); exits stay allowed while HALTED.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

LONG, FLAT, SHORT = 1, 0, -1


class TradingState(StrEnum):
    ACTIVE = "active"
    HALTED = "halted"  # exits only
    PAUSED = "paused"  # kill switch: nothing new


@dataclass(frozen=True)
class RiskConfig:
    risk_per_trade: float = 0.01  # equity fraction lost if the stop is hit, at strength 1
    max_position_pct: float = 0.10
    max_exposure_pct: float = 0.80  # gross
    max_open_positions: int = 5
    stop_mode: str = "atr"  # "atr" | "fixed"
    stop_pct: float = 0.05  # fixed stop distance, and the fallback when ATR is unknown
    atr_mult: float = 2.0
    min_stop_pct: float = 0.005  # a stop is never closer than this (a tiny ATR must not size huge)
    stop_order_type: str = "stop"  # "stop" | "trailing_stop"
    daily_loss_limit_pct: float = 0.03
    max_drawdown_pct: float = 0.10
    min_strength: float = 0.0  # signals weaker than this open nothing
    allow_short: bool = False
    exit_on_flat: bool = False  # close a position when the ensemble turns FLAT
    fill_buffer: float = 0.02  # size as if the fill were this much worse than the decision price

    def __post_init__(self) -> None:
        if self.stop_mode not in {"atr", "fixed"}:
            raise ValueError(f"stop_mode must be 'atr' or 'fixed', not {self.stop_mode!r}")
        if self.stop_order_type not in {"stop", "trailing_stop"}:
            raise ValueError("stop_order_type must be 'stop' or 'trailing_stop'")
        for name in ("max_position_pct", "max_exposure_pct", "stop_pct", "risk_per_trade"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1]")


@dataclass(frozen=True)
class Holding:
    qty: float  # signed
    price: float  # last price (mark)
    avg_entry: float = 0.0


@dataclass(frozen=True)
class Portfolio:
    """What risk needs to know about the account, marked at current prices."""

    equity: float
    cash: float
    holdings: Mapping[str, Holding] = field(default_factory=dict)
    day_start_equity: float | None = None
    peak_equity: float | None = None

    @property
    def gross_exposure(self) -> float:
        return sum(abs(h.qty) * h.price for h in self.holdings.values())

    @property
    def open_positions(self) -> int:
        return sum(1 for h in self.holdings.values() if h.qty != 0)

    def qty(self, ticker: str) -> float:
        h = self.holdings.get(ticker)
        return h.qty if h else 0.0


@dataclass(frozen=True)
class SignalInput:
    ticker: str
    direction: int  # +1 long, 0 flat, -1 short
    strength: float  # [0, 1]
    price: float  # decision price (last close)
    atr: float | None = None  # volatility for sizing and the stop


@dataclass(frozen=True)
class OrderIntent:
    ticker: str
    side: str  # "buy" | "sell"
    qty: int
    purpose: str  # "entry" | "exit"
    stop_price: float | None = None  # protective stop for an entry
    trail_percent: float | None = None  # when the stop is a trailing stop
    reason: str = ""


@dataclass(frozen=True)
class RiskDecision:
    intent: OrderIntent | None
    reason: str


@dataclass(frozen=True)
class LimitBreach:
    limit: str  # "daily_loss" | "max_drawdown"
    detail: str


def stop_distance(price: float, atr: float | None, config: RiskConfig) -> float:
    """Distance from entry to the protective stop, in price units (> 0)."""
    floor = config.min_stop_pct * price
    if config.stop_mode == "atr" and atr is not None and math.isfinite(atr) and atr > 0:
        return max(config.atr_mult * atr, floor)
    return max(config.stop_pct * price, floor)


def stop_level(direction: int, entry: float, distance: float) -> float:
    """The one stop-level rule: ``distance`` below a long's entry (never under a cent), above a
    short's. Risk's entry stop, the backtester's fixed-percentage stop and the stop the live
    stop service falls back to all come from here."""
    return max(entry - distance, 0.01) if direction > 0 else entry + distance


PRICE_TICK = Decimal("0.01")  # the price increment of the orders we place (US equities >= $1)


def price_to_tick(price: float) -> float:
    """An order price on the tick (half-even, as the broker boundary quantises it), so the level
    risk decides, the stop order the broker holds and the backtester's stop are one number."""
    return float(Decimal(repr(price)).quantize(PRICE_TICK, rounding=ROUND_HALF_EVEN))


def stop_price(side: str, entry: float, atr: float | None, config: RiskConfig) -> float:
    """Protective stop for a position opened by ``side`` at ``entry``."""
    return stop_level(1 if side == "buy" else -1, entry, stop_distance(entry, atr, config))


def exit_wanted(held: float, direction: int, *, exit_on_flat: bool) -> bool:
    """The one exit rule: leave a position on the opposite signal, or on FLAT when
    ``exit_on_flat``. (The backtester's ``ExitRule.OPPOSITE`` / ``ON_FLAT`` map onto it.)"""
    if held == 0:
        return False
    if (held > 0 and direction == SHORT) or (held < 0 and direction == LONG):
        return True
    return direction == FLAT and exit_on_flat


def position_size(
    *, signal: SignalInput, portfolio: Portfolio, config: RiskConfig
) -> tuple[int, str]:
    """Whole shares for a new position, and which constraint bound it.

    Volatility sizing: risk ``risk_per_trade * strength`` of equity between entry and stop, then
    capped by the per-position limit, the remaining gross exposure and (for longs) the cash.
    """
    price = signal.price
    if not (math.isfinite(price) and price > 0) or portfolio.equity <= 0:
        return 0, "no price or no equity"
    if portfolio.open_positions >= config.max_open_positions:
        return 0, f"max open positions ({config.max_open_positions}) reached"
    worst = price * (1.0 + config.fill_buffer)
    equity = portfolio.equity
    caps = {
        "risk": equity
        * config.risk_per_trade
        * signal.strength
        / stop_distance(price, signal.atr, config),
        "max_position_pct": config.max_position_pct * equity / worst,
        "max_exposure_pct": max(config.max_exposure_pct * equity - portfolio.gross_exposure, 0.0)
        / worst,
    }
    if signal.direction == LONG:
        caps["cash"] = max(portfolio.cash, 0.0) / worst
    binding = min(caps, key=lambda k: caps[k])
    return math.floor(caps[binding] + 1e-9), binding


def limits_check(portfolio: Portfolio, config: RiskConfig) -> LimitBreach | None:
    """The daily-loss and drawdown limits: a breach puts trading in HALTED until reset."""
    eq = portfolio.equity
    day0 = portfolio.day_start_equity
    if day0 and day0 > 0 and eq <= day0 * (1.0 - config.daily_loss_limit_pct):
        return LimitBreach(
            "daily_loss",
            f"equity {eq:.2f} is {100 * (1 - eq / day0):.2f}% below the day's start {day0:.2f} "
            f"(limit {100 * config.daily_loss_limit_pct:.2f}%)",
        )
    peak = portfolio.peak_equity
    if peak and peak > 0 and eq <= peak * (1.0 - config.max_drawdown_pct):
        return LimitBreach(
            "max_drawdown",
            f"drawdown {100 * (1 - eq / peak):.2f}% from peak {peak:.2f} "
            f"(limit {100 * config.max_drawdown_pct:.2f}%)",
        )
    return None


@dataclass(frozen=True)
class RiskMarks:
    """What the loss limits remember: the day, its starting equity, the equity peak, the state."""

    day: date | None = None
    day_start_equity: float | None = None
    peak_equity: float | None = None
    state: TradingState = TradingState.ACTIVE


def risk_marks_step(
    marks: RiskMarks, *, equity: float, today: date, config: RiskConfig
) -> tuple[RiskMarks, LimitBreach | None]:
    """The one loss-limit / HALT policy, applied at each decision (live and backtest).

    Rolls the day's start equity on a new day, raises the peak, checks the daily-loss and the
    drawdown limits; a breach turns ACTIVE into HALTED, and HALTED stays until a reset (equity
    recovering does not resume trading)."""
    day, day0 = marks.day, marks.day_start_equity
    if day != today or day0 is None:
        day, day0 = today, equity
    peak = (
        marks.peak_equity
        if marks.peak_equity is not None and marks.peak_equity >= equity
        else equity
    )
    breach = limits_check(
        Portfolio(equity=equity, cash=0.0, day_start_equity=day0, peak_equity=peak), config
    )
    state = marks.state
    if breach is not None and state == TradingState.ACTIVE:
        state = TradingState.HALTED
    return RiskMarks(day, day0, peak, state), breach


def order_intent(
    *,
    signal: SignalInput,
    portfolio: Portfolio,
    state: TradingState,
    config: RiskConfig,
) -> RiskDecision:
    """Turn an ensemble decision into at most one order (entry or exit), or say why not."""
    if state == TradingState.PAUSED:
        return RiskDecision(None, "trading paused (kill switch)")
    held = portfolio.qty(signal.ticker)
    d = signal.direction
    exit_side = "sell" if held > 0 else "buy"
    wants_exit = exit_wanted(held, d, exit_on_flat=config.exit_on_flat)
    if wants_exit:
        return RiskDecision(
            OrderIntent(signal.ticker, exit_side, int(abs(held)), "exit", reason="signal exit"),
            "exit",
        )
    if held != 0:
        return RiskDecision(None, "already positioned (no pyramiding)")
    if d == FLAT:
        return RiskDecision(None, "flat signal, no position")
    if d == SHORT and not config.allow_short:
        return RiskDecision(None, "short signal, shorting disabled")
    if state == TradingState.HALTED:
        return RiskDecision(None, "trading halted: entries blocked")
    if signal.strength < config.min_strength:
        return RiskDecision(None, f"strength {signal.strength:.2f} < {config.min_strength:.2f}")
    qty, binding = position_size(signal=signal, portfolio=portfolio, config=config)
    if qty <= 0:
        return RiskDecision(None, f"size 0 ({binding})")
    side = "buy" if d == LONG else "sell"
    stop = price_to_tick(stop_price(side, signal.price, signal.atr, config))
    trail = None
    if config.stop_order_type == "trailing_stop":
        trail = round(100.0 * abs(signal.price - stop) / signal.price, 4)
    return RiskDecision(
        OrderIntent(
            signal.ticker,
            side,
            qty,
            "entry",
            stop_price=stop,
            trail_percent=trail,
            reason=f"entry sized by {binding}",
        ),
        f"entry sized by {binding}",
    )
