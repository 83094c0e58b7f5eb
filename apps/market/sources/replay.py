"""Replay stored bars on a simulated clock at a chosen speed (pure: no ORM, no wall clock read).

A bar is *emitted when it becomes visible*: at its close (intraday: open + timeframe; daily: the
session close from the exchange calendar), never at its open, so a consumer can never act on a bar
before it could have existed. ``speed`` is simulated seconds per wall second (``0`` = as fast as
possible); the clock sleeps through an injected ``sleep`` so tests can count instead of wait.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from apps.core.clock import SimClock
from apps.market import calendar
from apps.market.contracts import Bar
from apps.market.metrics import BARS_REPLAYED


def bar_visible_at(bar: Bar) -> datetime:
    """When a bar is complete: open + timeframe, or the session close for daily bars."""
    if bar.timeframe == calendar.DAILY:
        # the session date: Alpaca stamps a daily bar at midnight New York; data sets stamped at
        # midnight UTC (the evening before in New York) name the same date 12 hours on
        day = (bar.time + timedelta(hours=12)).astimezone(calendar.NEW_YORK).date()
        try:
            return calendar.session_bounds(day, calendar="XNYS")[1]
        except ValueError:  # not a session (bad data): treat as visible at the end of the day
            return bar.time + timedelta(days=1)
    return bar.time + timedelta(minutes=calendar.timeframe_minutes(bar.timeframe))


def visible_at_ns(time_ns: npt.NDArray[np.int64], timeframe: str) -> npt.NDArray[np.int64]:
    """:func:`bar_visible_at` of every bar stamp (integer ns since the epoch), vectorised: the
    time a decision on each bar is made, live and in a backtest."""
    if timeframe != calendar.DAILY:
        return time_ns + calendar.timeframe_minutes(timeframe) * 60_000_000_000
    out = np.empty_like(time_ns)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    memo: dict[int, int] = {}
    for i, t in enumerate(time_ns.tolist()):
        v = memo.get(t)
        if v is None:
            stamp = epoch + timedelta(microseconds=t // 1000)
            seen = bar_visible_at(Bar("", calendar.DAILY, stamp, 0.0, 0.0, 0.0, 0.0, 0.0))
            v = memo[t] = (seen - epoch) // timedelta(microseconds=1) * 1000
        out[i] = v
    return out


def merge_by_visibility(*streams: Iterable[Bar]) -> Iterator[Bar]:
    """Merge per-symbol bar streams (each in time order) into one ordered by visibility."""
    return heapq.merge(*streams, key=lambda b: (bar_visible_at(b), b.symbol))


def replay(bars: Iterable[Bar], clock: SimClock) -> Iterator[tuple[datetime, Bar]]:
    """Yield ``(visible_at, bar)`` in order, advancing ``clock`` to each bar's visibility first."""
    for bar in bars:
        at = bar_visible_at(bar)
        if at < clock.now():
            continue  # already in the past for this clock: a replay never goes backwards
        clock.advance_to(at)
        BARS_REPLAYED.labels(bar.timeframe).inc()
        yield at, bar
