"""Order matching against a bar (pure): the one set of fill rules of the simulated broker and the
backtester.

No ORM, no clock, no state: each function takes an order's terms and a bar's open/high/low and says
whether and at what base price (before slippage) the order fills. The numbers may be ``Decimal``
(the simulated broker, which books to 4 decimals) or ``float`` (the backtester's loop); only
comparisons and the trailing-stop arithmetic are done here, so both get the same answers.

Rules (an intrabar path is never assumed in the trader's favour):

- market: the bar's open;
- limit: the open if it is already at or better than the limit, else the limit if the bar's range
  reaches it;
- stop: the open if the bar gaps through the stop, else the stop if the range touches it;
- stop-limit: once the stop triggers, a limit order; on the trigger bar it fills at the trigger
  price only if that is within the limit (the rest of the bar's path is unknown);
- trailing stop: the stop is ``watermark · (1 ∓ trail%)``; the trigger is checked against the
  current level first, and only a bar that did not trigger ratchets the watermark (sells: the bar's
  high, buys: its low);
- partial fills: at most ``capacity`` (a participation cap of the bar's volume) per bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import numpy as np
import numpy.typing as npt

N = TypeVar("N", Decimal, float)
# the trailing level is also computed over a whole array of watermarks (the backtester's search)
W = TypeVar("W", Decimal, float, npt.NDArray[np.float64])

MARKET, LIMIT, STOP, STOP_LIMIT, TRAILING_STOP = (
    "market",
    "limit",
    "stop",
    "stop_limit",
    "trailing_stop",
)


def limit_fill(buy: bool, limit: N | None, open_: N, high: N, low: N) -> N | None:
    """Base price of a limit order on a bar, or None when the bar does not reach it."""
    if limit is None:
        return None
    if buy:
        if open_ <= limit:
            return open_
        return limit if low <= limit else None
    if open_ >= limit:
        return open_
    return limit if high >= limit else None


def stop_fill(buy: bool, stop: N | None, open_: N, high: N, low: N) -> N | None:
    """Base price of a stop order on a bar (the open on a gap through it), or None."""
    if stop is None:
        return None
    if buy:
        if open_ >= stop:
            return open_  # gapped through the stop
        return stop if high >= stop else None
    if open_ <= stop:
        return open_
    return stop if low <= stop else None


def trailing_level(buy: bool, watermark: W, trail_percent: Decimal | float) -> W:
    """The trailing stop's current level (unrounded) from its watermark."""
    if isinstance(watermark, Decimal):
        pct = Decimal(trail_percent) / 100
        return watermark * (1 + pct) if buy else watermark * (1 - pct)
    p = float(trail_percent) / 100
    return watermark * (1 + p) if buy else watermark * (1 - p)


def trailing_ratchet(buy: bool, watermark: N, high: N, low: N) -> N:
    """The watermark after a bar that did not trigger the stop."""
    return min(watermark, low) if buy else max(watermark, high)


@dataclass(frozen=True)
class Match:
    """What one bar did to one order: the fill's base price (None: no fill), and the order's
    updated trigger state (stop-limit triggered, trailing watermark)."""

    base: object | None
    triggered: bool
    watermark: object | None


def order_match(
    *,
    kind: str,
    buy: bool,
    open_: N,
    high: N,
    low: N,
    limit: N | None = None,
    stop: N | None = None,
    triggered: bool = False,
    watermark: N | None = None,
    trail_percent: N | None = None,
    level: N | None = None,
) -> Match:
    """Match one open order against one bar (see the module docstring).

    ``level`` is the trailing stop's current level as the caller rounds it (the broker to its
    4 decimals); it defaults to :func:`trailing_level` of the watermark.
    """
    if kind == MARKET:
        return Match(open_, triggered, watermark)
    if kind == LIMIT:
        return Match(limit_fill(buy, limit, open_, high, low), triggered, watermark)
    if kind == STOP:
        return Match(stop_fill(buy, stop, open_, high, low), triggered, watermark)
    if kind == STOP_LIMIT:
        if triggered:
            return Match(limit_fill(buy, limit, open_, high, low), True, watermark)
        trigger = stop_fill(buy, stop, open_, high, low)
        if trigger is None:
            return Match(None, False, watermark)
        within = limit is not None and (
            (buy and trigger <= limit) or (not buy and trigger >= limit)
        )
        return Match(trigger if within else None, True, watermark)
    if kind == TRAILING_STOP:
        wm = open_ if watermark is None else watermark
        if level is None:
            assert trail_percent is not None
            level = trailing_level(buy, wm, trail_percent)
        base = stop_fill(buy, level, open_, high, low)
        if base is None:  # ratchet only after the trigger check (conservative)
            wm = trailing_ratchet(buy, wm, high, low)
        return Match(base, triggered, wm)
    raise ValueError(f"unknown order type {kind!r}")


def fill_quantity(remaining: N, capacity: N | None) -> N:
    """How much of ``remaining`` fills on a bar with ``capacity`` (None: no participation cap);
    whole shares only under a cap."""
    if capacity is None:
        return remaining
    if isinstance(capacity, Decimal):
        return min(remaining, capacity.to_integral_value(rounding="ROUND_FLOOR"))
    return min(remaining, float(int(capacity)))
