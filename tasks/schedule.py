"""Every periodic task in one place. Seeded into django-celery-beat's tables (editable in the admin)
by ``manage.py bootstrap``; each entry has an expiry so a backlog never piles up.

A stage adds its entries to ``SCHEDULE``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.bus.queues import Queue


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    every_s: float
    queue: Queue
    expires_s: float
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


SCHEDULE: list[Entry] = [
    Entry(
        name="bus: relay outbox, reclaim and drain",
        task="bus.maintain",
        every_s=5,
        queue=Queue.DEFAULT,
        expires_s=5,
        description="Re-publishes outbox leftovers; reclaims messages abandoned by dead consumers.",
    ),
    Entry(
        name="news: poll due sources",
        task="news.dispatch",
        every_s=15,
        queue=Queue.NEWS,
        expires_s=15,
        description="Claims each enabled news source whose interval has passed (and is out of "
        "backoff) and queues one news.poll_source task per source.",
    ),
    Entry(
        name="learning: weight update cycle",
        task="learning.cycle",
        every_s=3600,
        queue=Queue.LEARNING,
        expires_s=3000,
        description="Guarded strategy-weight update from the trade outcomes so far (also queued, "
        "debounced, after positions close); skipped when frozen or nothing new closed.",
    ),
    Entry(
        name="learning: strategy metrics",
        task="learning.strategy_metrics",
        every_s=900,
        queue=Queue.LEARNING,
        expires_s=800,
        description="Per strategy: trades, win rate, attributed P&L, Sharpe, weight.",
    ),
    Entry(
        name="learning: portfolio snapshot",
        task="learning.portfolio_snapshot",
        every_s=60,
        queue=Queue.LEARNING,
        expires_s=55,
        description="Value, cash, exposure, daily P&L and drawdown (broker account, else DB).",
    ),
    Entry(
        name="market: catch up recent bars",
        task="market.backfill_recent",
        every_s=3600,
        queue=Queue.DEFAULT,
        expires_s=3000,
        description="Upserts the last 7 days of daily bars from Alpaca for TRADING_SYMBOLS "
        "(idempotent); logs and skips when no Alpaca keys are set.",
    ),
    Entry(
        name="market: gap check",
        task="market.check_gaps",
        every_s=6 * 3600,
        queue=Queue.DEFAULT,
        expires_s=3600,
        description="Counts sessions missing from stored daily bars (tradebot_market_missing_bars).",
    ),
    Entry(
        name="signals: decide on new bars",
        task="signals.scan",
        every_s=60,
        queue=Queue.SIGNALS,
        expires_s=55,
        description="A signal at the close of each traded symbol's newest complete bar (once per "
        "bar); the simulated broker sees the bar first.",
    ),
    Entry(
        name="execution: reconcile with the broker",
        task="execution.reconcile",
        every_s=60,
        queue=Queue.EXECUTION,
        expires_s=55,
        description="Local orders/positions vs the broker's; adopts external orders; HALTS trading "
        "while they disagree (lifted by the next clean run); re-places missing stops.",
    ),
    Entry(
        name="execution: sync open orders",
        task="execution.sync_orders",
        every_s=15,
        queue=Queue.EXECUTION,
        expires_s=14,
        description="Polls the broker for every open order and drives the order state machine.",
    ),
]


def seed() -> int:
    """Create or update the beat entries. Returns how many entries exist after seeding."""
    for e in SCHEDULE:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=max(1, int(e.every_s)), period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update_or_create(
            name=e.name,
            defaults={
                "task": e.task,
                "interval": interval,
                "queue": e.queue.value,
                "expire_seconds": int(e.expires_s),
                "kwargs": json.dumps(e.kwargs),
                "description": e.description,
            },
        )
    return len(SCHEDULE)
