"""Publishing: the transactional outbox and the wake-up of consumer groups.

``publish()`` writes the message to the ``bus_outbox`` table inside the caller's transaction. After
that transaction commits, the rows are XADDed to their streams (trimmed with an approximate MAXLEN)
and deleted, and each consumer group of the stream gets at most one queued ``bus.drain`` Celery task.
If Redis is unreachable the rows simply stay and the relay (beat, every few seconds) publishes them
later: a committed change never loses its message. Consumers de-duplicate by event id, so a message
published twice (relay racing a slow flush) has its effect once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from opentelemetry import propagate, trace
from redis.client import Pipeline

from apps.bus import topology
from apps.bus.metrics import BUS_PUBLISH_ERRORS, BUS_PUBLISHED
from apps.bus.tasks import drain
from apps.core import codec
from apps.core.clock import wall_now, wall_time
from apps.core.contracts import Contract
from apps.core.models import OutboxMessage
from apps.core.redis_client import redis_client

log = logging.getLogger(__name__)

# Field names inside a stream entry.
F_EVENT = "event_id"
F_BODY = "body"
F_TRACE = "trace"
F_SENT = "sent_at"


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


def derived_event_id(parent: uuid.UUID | str, stream: str, index: int = 0) -> uuid.UUID:
    """Deterministic id of an output caused by input ``parent``: a retry produces the same id."""
    return uuid.uuid5(uuid.UUID(str(parent)), f"{stream}#{index}")


def _trace_carrier(context: Any = None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def trace_carrier(span: Any = None) -> dict[str, str]:
    """The W3C trace context of ``span`` (default: the current span), as messages carry it."""
    return _trace_carrier(trace.set_span_in_context(span) if span is not None else None)


def publish(stream: str, message: Contract, *, event_id: uuid.UUID | None = None) -> OutboxMessage:
    """Queue ``message`` for ``stream`` in the current transaction; it goes out after commit."""
    row = OutboxMessage.objects.create(
        stream=stream,
        event_id=event_id or new_event_id(),
        payload=codec.dumps(message),
        trace=_trace_carrier(),
    )
    transaction.on_commit(lambda: flush([row]))
    return row


def publish_many(
    items: Sequence[tuple[str, Contract, uuid.UUID | None]],
    *,
    traces: Sequence[dict[str, str]] | None = None,
) -> list[OutboxMessage]:
    """Like :func:`publish` for many messages in one INSERT. ``traces``: one trace carrier per
    item (e.g. a span per article, so each starts its own trace); default: the current context."""
    carriers = list(traces) if traces is not None else [_trace_carrier()] * len(items)
    rows = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                stream=stream,
                event_id=event_id or new_event_id(),
                payload=codec.dumps(message),
                trace=carrier,
            )
            for (stream, message, event_id), carrier in zip(items, carriers, strict=True)
        ]
    )
    transaction.on_commit(lambda: flush(rows))
    return rows


@dataclass(frozen=True, slots=True)
class OutMessage:
    """A message ready for XADD (an outbox row, or a consumer's output kept on its receipt)."""

    stream: str
    event_id: str
    payload: str
    trace: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "event_id": self.event_id,
            "payload": self.payload,
            "trace": self.trace,
        }

    @staticmethod
    def from_json(raw: dict[str, Any]) -> OutMessage:
        return OutMessage(raw["stream"], raw["event_id"], raw["payload"], raw.get("trace") or {})


def out_message(stream: str, message: Contract, event_id: uuid.UUID | str) -> OutMessage:
    return OutMessage(stream, str(event_id), codec.dumps(message), _trace_carrier())


def xadd_messages(
    messages: Sequence[OutMessage], *, then: Callable[[Pipeline], None] | None = None
) -> None:
    """XADD and set the groups' wake flags in one round trip, then queue the drains needed.

    ``then`` may add commands to the same pipeline (a consumer's XACK), so forwarding and
    acknowledging cost one round trip. Raises RedisError on failure (nothing is then acknowledged).
    """
    pipe = redis_client().pipeline(transaction=False)
    maxlen = settings.BUS["MAXLEN"]
    sent_at = f"{wall_time():.6f}"
    for m in messages:
        pipe.xadd(
            m.stream,
            {F_EVENT: m.event_id, F_BODY: m.payload, F_TRACE: json.dumps(m.trace), F_SENT: sent_at},
            maxlen=maxlen,
            approximate=True,
        )
    groups = _groups_of({m.stream for m in messages})
    for group, _ in groups:
        pipe.set(_wake_key(group), b"1", nx=True, ex=WAKE_TTL_S)
    if then is not None:
        then(pipe)
    if not len(pipe):
        return
    results = pipe.execute()
    for m in messages:
        BUS_PUBLISHED.labels(m.stream).inc()
    flags = results[len(messages) : len(messages) + len(groups)]
    for (group, queue), was_set in zip(groups, flags, strict=True):
        if was_set:
            _queue_drain(group, queue)


def flush(rows: Iterable[OutboxMessage]) -> int:
    """XADD committed outbox rows, delete them, wake the groups. Returns how many went out."""
    rows = list(rows)
    if not rows:
        return 0
    try:
        xadd_messages(
            [OutMessage(r.stream, str(r.event_id), r.payload, r.trace or {}) for r in rows]
        )
    except redis.exceptions.RedisError as exc:
        for row in rows:
            BUS_PUBLISH_ERRORS.labels(row.stream).inc()
        log.warning(
            "bus: redis unavailable, %d message(s) kept in the outbox for the relay: %s",
            len(rows),
            exc,
        )
        return 0
    # One statement in autocommit (no BEGIN/COMMIT). A crash before it only means the relay sends
    # these again later, which consumers de-duplicate by event id.
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {OutboxMessage._meta.db_table} WHERE id = ANY(%s)", [[r.pk for r in rows]]
        )
    return len(rows)


def relay(limit: int = 500) -> int:
    """Publish outbox rows a crash or an outage left behind. Run by beat; safe to run anywhere."""
    stale = wall_now() - timedelta(seconds=settings.BUS["OUTBOX_STALE_S"])
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(created_at__lte=stale)
                .order_by("id")[:limit]
            )
            if not rows:
                return total
            sent = flush(rows)
        total += sent
        if sent < len(rows):
            return total


def _groups_of(streams: Iterable[str]) -> list[tuple[str, str]]:
    """The (group, queue) pairs that read ``streams``, from the static topology (no consumer import)."""
    return [(r.group, r.queue) for stream in sorted(streams) for r in topology.routes_of(stream)]


def wake_streams(streams: Iterable[str]) -> None:
    for group, queue in _groups_of(streams):
        wake(group, queue)


def _wake_key(group: str, slot: int = 0) -> str:
    """Slot 0 is the group's own drain (woken by publishers); slots 1.. are the extra drains a
    backlog adds on an unordered group (woken by the drain of the slot before)."""
    return f"bus:wake:{group}" if slot == 0 else f"bus:wake:{group}:{slot}"


def wake(group: str, queue: str, slot: int = 0) -> None:
    """Make sure a drain for ``group`` is queued or running; queue one only if none is.

    The flag means "a drain is queued or running and will read the stream after now". A drain
    clears it only right before its final read, so a message added after that read always finds the
    flag clear and queues a new drain: no wake-up is lost, and a busy stream costs no Celery
    dispatch per message.
    """
    try:
        if not redis_client().set(_wake_key(group, slot), b"1", nx=True, ex=WAKE_TTL_S):
            return
    except redis.exceptions.RedisError as exc:
        log.warning("bus: could not wake %s (beat's drain will pick it up): %s", group, exc)
        return
    _queue_drain(group, queue, slot)


def _queue_drain(group: str, queue: str, slot: int = 0) -> None:
    drain.apply_async(args=(group, slot) if slot else (group,), queue=queue)


WAKE_TTL_S = 120


def hold_wake(group: str, slot: int = 0) -> None:
    """A running drain keeps the flag set (and fresh) so publishers don't queue more drains."""
    redis_client().set(_wake_key(group, slot), b"1", ex=WAKE_TTL_S)


def clear_wake(group: str, slot: int = 0) -> None:
    redis_client().delete(_wake_key(group, slot))


def raw_fields(fields: dict[bytes, bytes]) -> dict[str, Any]:
    return {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
