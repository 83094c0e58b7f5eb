"""Beat task of the bus: relay the outbox and wake every group (drain/reclaim live in apps.bus)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.bus import outbox, topology
from apps.bus.queues import Queue
from apps.bus.tasks import reclaim

log = logging.getLogger(__name__)


@shared_task(name="bus.maintain", queue=Queue.DEFAULT.value, ignore_result=True)
def maintain() -> dict[str, int]:
    """Beat: relay the outbox and queue a reclaim + drain on every group's own queue."""
    relayed = outbox.relay()
    for r in topology.routes():
        reclaim.apply_async(args=(r.group,), queue=r.queue)
        outbox.wake(r.group, r.queue)
    return {"relayed": relayed}
