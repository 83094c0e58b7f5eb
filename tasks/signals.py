"""Signal tasks (queue ``signals``): evaluate the ensemble when bars arrive or on demand."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings

from apps.bus.queues import Queue
from apps.market.selectors import market_now
from apps.strategies.services import signal_generate, signals_scan
from tasks.execution import market_tick

log = logging.getLogger(__name__)


def _when(at: str | None) -> datetime:
    return datetime.fromisoformat(at) if at else market_now()


@shared_task(name="signals.generate", queue=Queue.SIGNALS.value, acks_late=True, ignore_result=True)
def generate(ticker: str, at: str | None = None) -> int | None:
    """Decide for ``ticker`` at ``at`` (ISO time, default now); publishes to signals:generated."""
    outcome = signal_generate(ticker=ticker, at=_when(at))
    return None if outcome is None else outcome.signal.pk


@shared_task(
    name="signals.bars_arrived", queue=Queue.SIGNALS.value, acks_late=True, ignore_result=True
)
def bars_arrived(symbols: list[str] | None = None, at: str | None = None) -> int:
    """New bars (live feed or a replay tick): let the simulated broker see them, then decide.

    The broker tick is queued first on the execution queue so yesterday's orders fill at this
    bar before today's signals place new ones. Idempotent: the broker ignores bars it has applied
    and signals are unique per (ticker, decided_at).
    """
    when = _when(at)
    names: list[str] = list(symbols or settings.TRADING_SYMBOLS)
    market_tick.apply_async(args=(names, when.isoformat()), queue=Queue.EXECUTION.value)
    made = 0
    for ticker in names:
        outcome = signal_generate(ticker=ticker, at=when)
        made += int(outcome is not None and outcome.created)
    return made


@shared_task(name="signals.scan", queue=Queue.SIGNALS.value, acks_late=True, ignore_result=True)
def scan() -> list[str]:
    """Beat: a signal at the close of each traded symbol's newest complete bar (once per bar).

    The simulated broker sees the new bars first (its fills come before the new orders).
    """
    now = market_now()  # the replay's clock when one drives the bot
    names: list[str] = list(settings.TRADING_SYMBOLS)
    market_tick.apply_async(args=(names, now.isoformat()), queue=Queue.EXECUTION.value)
    return signals_scan(symbols=names, now=now)
