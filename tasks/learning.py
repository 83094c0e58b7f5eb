"""Celery tasks of the learning stage (queue ``learning``): cycles, metrics, snapshots."""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from django.conf import settings

from apps.bus.queues import Queue
from apps.core.redis_client import redis_client
from apps.learning.reporting import portfolio_snapshot_record, strategy_metrics_record
from apps.learning.services import learning_cycle_run

log = logging.getLogger(__name__)

PENDING_KEY = "learning:cycle:pending"


@shared_task(name="learning.cycle", queue=Queue.LEARNING.value, acks_late=True, ignore_result=True)
def cycle(trigger: str = "beat") -> str:
    """One learning cycle (beat, or debounced after closes). Returns its outcome."""
    if trigger == "close":
        try:
            redis_client().delete(PENDING_KEY)  # closes from now on queue a fresh cycle
        except redis.exceptions.RedisError as exc:
            # Only the debounce flag is lost: the next close queues another (harmless) cycle.
            log.warning("learning: could not clear the pending-cycle flag: %s", exc)
    return learning_cycle_run(trigger=trigger).outcome


def cycle_soon() -> bool:
    """Queue a learning cycle ``LEARNING['DEBOUNCE_S']`` seconds from now, unless one is already
    waiting: a burst of closes costs one cycle. Returns whether a cycle was queued."""
    delay = int(settings.LEARNING.get("DEBOUNCE_S", 30))
    try:
        if not redis_client().set(PENDING_KEY, b"1", nx=True, ex=max(delay * 4, 60)):
            return False
    except redis.exceptions.RedisError as exc:
        log.warning("learning: could not debounce a cycle (beat will run one): %s", exc)
        return False
    cycle.apply_async(kwargs={"trigger": "close"}, countdown=delay, queue=Queue.LEARNING.value)
    return True


@shared_task(
    name="learning.strategy_metrics", queue=Queue.LEARNING.value, acks_late=True, ignore_result=True
)
def strategy_metrics() -> int:
    """Per-strategy trades, win rate, P&L, Sharpe and weight. Returns rows written."""
    return len(strategy_metrics_record())


@shared_task(
    name="learning.portfolio_snapshot",
    queue=Queue.LEARNING.value,
    acks_late=True,
    ignore_result=True,
)
def portfolio_snapshot() -> str:
    """Value, cash, exposure, daily P&L and drawdown. Returns the value."""
    return str(portfolio_snapshot_record().value)
