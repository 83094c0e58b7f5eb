"""Celery tasks of the bus itself: drain a consumer group, reclaim its abandoned messages.

Queued by publishers (``outbox``) on the group's own queue. The consumer class is looked up in the
static topology, so this module imports no stage. The beat task that relays the outbox and wakes
every group is ``tasks.bus.maintain``.
"""

from __future__ import annotations

from celery import shared_task

from apps.bus.topology import consumer_for


@shared_task(name="bus.drain", acks_late=True, ignore_result=True)
def drain(group: str, slot: int = 0) -> int:
    """Process everything new on ``group``'s stream. Queued by publishers on the group's queue
    (slot 0), and on an unordered group by a drain that meets a backlog (slots 1..BUS_DRAINS-1)."""
    return consumer_for(group)().drain(slot=slot)


@shared_task(name="bus.reclaim", acks_late=True, ignore_result=True)
def reclaim(group: str) -> int:
    """Retry messages pending too long (dead consumer, failed handler); dead-letter after N."""
    return consumer_for(group)().reclaim()
