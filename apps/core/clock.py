"""The clock port: what time it is for a stage.

Every stage that decides, stamps or ages something by *market* time takes it from a :class:`Clock`:

- live trading: :class:`WallClock` (the exchange's time is the wall's);
- a replay driving the live pipeline: the replay's simulated clock, published for the other
  processes (:class:`apps.market.clock.ReplayAwareClock` reads it, falling back to the wall);
- a backtest: :class:`SimClock`, moved by the loop to each bar's time.

Operational timeouts (lock expiry, "a claim older than 10 s", outbox staleness) are about the
machine, not the market, and stay on the wall clock on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current (aware, UTC) market time."""

    def now(self) -> datetime: ...


class WallClock:
    """Live: the wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """Simulated time that moves only forward, and only when its owner advances it.

    ``speed`` is simulated seconds per wall second (``0``: as fast as possible); the gap is slept
    through an injected ``sleep`` so tests can count instead of wait.
    """

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


def wall_now() -> datetime:
    """The machine's time (aware, UTC) for operational stamps and timeouts: a token's expiry, a
    message's bookkeeping, a poll's backoff, a run's start. Never for a market decision: that
    time comes from a :class:`Clock` (``apps.market.clock.market_clock`` in the live stages).

    With :func:`wall_time`, the one place outside the clock modules that reads the wall clock
    (``tests/test_clock_reads.py`` holds every other module to it)."""
    return datetime.now(UTC)


def wall_time() -> float:
    """The machine's epoch seconds (``time.time()``): message stamps and lags between processes."""
    return time.time()
