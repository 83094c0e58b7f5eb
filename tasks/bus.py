"""Celery tasks of the bus: drain a consumer group, reclaim abandoned messages, relay the outbox."""

from __future__ import annotations

import logging

from celery import shared_task

from tasks.queues import Queue
from tasks.streams import bus
from tasks.streams.registry import all_consumers, consumer_for

log = logging.getLogger(__name__)


@shared_task(name="bus.drain", acks_late=True, ignore_result=True)
def drain(group: str) -> int:
    """Process everything new on ``group``'s stream. Queued by publishers on the group's queue."""
    return consumer_for(group)().drain()


@shared_task(name="bus.reclaim", acks_late=True, ignore_result=True)
def reclaim(group: str) -> int:
    """Retry messages pending too long (dead consumer, failed handler); dead-letter after N."""
    return consumer_for(group)().reclaim()


@shared_task(name="bus.maintain", queue=Queue.DEFAULT.value, ignore_result=True)
def maintain() -> dict[str, int]:
    """Beat: relay the outbox and queue a reclaim + drain on every group's own queue."""
    relayed = bus.relay()
    for cls in all_consumers():
        reclaim.apply_async(args=(cls.group,), queue=cls.queue)
        bus.wake(cls.group, cls.queue)
    return {"relayed": relayed}
