"""The market clock of the running bot: the replay's simulated time while a replay drives the
pipeline (published in Redis by ``replay_bars --drive``), else the wall clock.

This is the :class:`apps.core.clock.Clock` every live stage reads when it decides or stamps by
market time (the signals consumers and tasks, the execution context, the broker tick).
"""

from __future__ import annotations

from datetime import datetime

from apps.core.clock import Clock, WallClock
from apps.core.redis_client import redis_client

REPLAY_NOW_KEY = "market:replay:now"


class ReplayAwareClock:
    """The replay's published "now" when there is one, else the wall clock."""

    def __init__(self, fallback: Clock | None = None) -> None:
        self.fallback = fallback or WallClock()

    def now(self) -> datetime:
        raw = redis_client().get(REPLAY_NOW_KEY)
        if raw:
            return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
        return self.fallback.now()


def market_clock() -> Clock:
    """The clock live stages decide by."""
    return ReplayAwareClock()
