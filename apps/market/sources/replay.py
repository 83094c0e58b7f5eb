"""Replay stored bars on a simulated clock at a chosen speed (pure: no ORM, no wall clock read).

A bar is *emitted when it becomes visible*: at its close (intraday: open + timeframe; daily: the
session close from the exchange calendar), never at its open, so a consumer can never act on a bar
before it could have existed. ``speed`` is simulated seconds per wall second (``0`` = as fast as
possible); the clock sleeps through an injected ``sleep`` so tests can count instead of wait.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from apps.market import calendar
from apps.market.contracts import Bar
from apps.market.metrics import BARS_REPLAYED


class SimClock:
    """Simulated time that moves only forward, and only when the replay advances it."""

    def __init__(
        self, start: datetime, *, speed: float = 0.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._now, self.speed, self._sleep = start, speed, sleep
        self.slept_s = 0.0  # total wall time requested from ``sleep``

    def now(self) -> datetime:
        return self._now

    def advance_to(self, when: datetime) -> float:
        """Move to ``when`` (no-op if in the past); sleep the scaled gap. Returns wall seconds."""
        if when <= self._now:
            return 0.0
        gap = (when - self._now).total_seconds()
        self._now = when
        if self.speed == 0:
            return 0.0
        wall = gap / self.speed
        self._sleep(wall)
        self.slept_s += wall
        return wall


def bar_visible_at(bar: Bar) -> datetime:
    """When a bar is complete: open + timeframe, or the session close for daily bars."""
    if bar.timeframe == calendar.DAILY:
        day = bar.time.astimezone(calendar.NEW_YORK).date()
        try:
            return calendar.session_bounds(day, calendar="XNYS")[1]
        except ValueError:  # not a session (bad data): treat as visible at the end of the day
            return bar.time + timedelta(days=1)
    return bar.time + timedelta(minutes=calendar.timeframe_minutes(bar.timeframe))


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
