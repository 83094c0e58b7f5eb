"""The bus through real Celery workers, killed like crashed machines.

Each test starts real worker processes (solo pool) on the probe's queue. Faults are injected by the
probe itself (``BUS_FAULT_INJECTION`` is on in test settings): ``os._exit(137)`` either inside the
stage's transaction (before commit) or right after commit and before the acknowledgement.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis as redis_lib
from django.db import transaction

from apps.bus import outbox
from apps.bus.names import Stream, dead_letter
from apps.bus.probe import Ping
from apps.core.models import BusPing, ProcessedMessage
from conftest import WorkerProcess, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]

Workers = Callable[..., WorkerProcess]


def publish(**kw: object) -> str:
    with transaction.atomic():
        row = outbox.publish(Stream.PING_1, Ping(sent_at=time.time(), **kw))
    return str(row.event_id)


def pending(r: redis_lib.Redis, stream: str = Stream.PING_1, group: str = "probe-1") -> int:
    return int(r.xpending(stream, group)["pending"])


def beat_tick() -> None:
    """What beat does every few seconds: relay, reclaim and drain on each group's queue."""
    from tasks.bus import maintain

    maintain.apply_async(queue="default")


@pytest.mark.parametrize("fault", ["crash_before_commit", "crash_after_commit"])
def test_consumer_killed_between_read_and_ack_applies_effect_exactly_once(
    fault: str, redis_conn: redis_lib.Redis, celery_workers: Workers
) -> None:
    first = celery_workers(["default"])
    event_id = publish(fault=fault, note=fault)
    assert first.wait_exit(60) == 137, first.output()[-3000:]

    # The worker died holding the message: it is pending, not acknowledged.
    assert pending(redis_conn) == 1
    rows_after_crash = BusPing.objects.filter(event_id=event_id).count()
    assert rows_after_crash == (1 if fault == "crash_after_commit" else 0)

    # A new worker comes up; beat's reclaim hands it the abandoned message.
    second = celery_workers(["default"])

    def settled() -> bool:
        if pending(redis_conn) == 0:
            return True
        beat_tick()
        time.sleep(0.3)
        return False

    wait_for(settled, timeout=60)
    assert BusPing.objects.filter(event_id=event_id).count() == 1, second.output()[-3000:]
    assert ProcessedMessage.objects.filter(group="probe-1", event_id=event_id).count() == 1
    assert redis_conn.xlen(dead_letter(Stream.PING_1)) == 0


def test_poison_message_lands_in_dead_letter_after_n_tries(
    redis_conn: redis_lib.Redis, celery_workers: Workers
) -> None:
    worker = celery_workers(["default"])
    publish(fault="raise", note="poison")
    good = publish(note="good")

    def dead() -> bool:
        if redis_conn.xlen(dead_letter(Stream.PING_1)) >= 1:
            return True
        beat_tick()
        time.sleep(0.3)
        return False

    wait_for(dead, timeout=60)
    entry = redis_conn.xrange(dead_letter(Stream.PING_1))[0][1]
    assert b"injected failure" in entry[b"error"]
    wait_for(lambda: pending(redis_conn) == 0, timeout=30)
    assert list(BusPing.objects.values_list("note", flat=True)) == ["good"]
    assert BusPing.objects.get().event_id.hex == good.replace("-", "")
    assert "dead-lettered" in worker.output()


def test_four_stage_chain_through_workers_with_dropped_connections(
    redis_conn: redis_lib.Redis, celery_workers: Workers
) -> None:
    celery_workers(["default"])
    celery_workers(["default"])
    killer = redis_lib.Redis(
        **{
            k: v
            for k, v in redis_conn.connection_pool.connection_kwargs.items()
            if k in ("host", "port", "db")
        }
    )
    n = 40
    ids = []
    for i in range(n):
        ids.append(publish(hops=4, note=str(i)))
        if i % 8 == 0:
            killer.client_kill_filter(_type="normal", skipme=True)  # drop every client's socket

    def all_through() -> bool:
        if BusPing.objects.filter(stage=4).count() >= n:
            return True
        beat_tick()
        time.sleep(0.3)
        return False

    wait_for(all_through, timeout=120)
    for stage in (1, 2, 3, 4):
        notes = sorted(
            int(x) for x in BusPing.objects.filter(stage=stage).values_list("note", flat=True)
        )
        assert notes == list(range(n)), f"stage {stage}: every message exactly once"
