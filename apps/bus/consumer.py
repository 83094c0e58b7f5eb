"""The one base every stream consumer shares.

The base owns: reading with a consumer group, de-duplication by event id (receipts), one database
transaction per batch with a savepoint per message, the outbox for what a stage emits,
acknowledging only after commit, reclaiming messages abandoned by dead consumers (XAUTOCLAIM),
retries, the dead-letter stream, trace propagation and metrics. A stage consumer only sets its
stream/group/queue and implements :meth:`StreamConsumer.handle` (decode is done for it), which calls
one service. Tests call :meth:`consume` directly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from opentelemetry import propagate, trace

from apps.bus import outbox
from apps.bus.groups import stage_groups
from apps.bus.metrics import BUS_HANDLE_SECONDS, BUS_PROCESSED, BUS_RECLAIMED
from apps.bus.names import dead_letter
from apps.bus.topology import max_drains, partition_of
from apps.core import codec
from apps.core.clock import wall_time
from apps.core.codec import ContractError
from apps.core.contracts import Contract
from apps.core.models import ProcessedMessage
from apps.core.redis_client import redis_client, text

log = logging.getLogger(__name__)
tracer = trace.get_tracer("tradebot.bus")


class ReceiptConflict(Exception):
    """A receipt for an event in this batch already exists: the batch is rolled back and redone."""


@dataclass
class Delivery:
    """One stream entry as a consumer sees it."""

    message_id: str
    event_id: str
    fields: dict[str, str]
    message: Contract | None = None
    error: str = ""
    emitted: list[tuple[str, Contract]] = field(default_factory=list)
    outputs: list[outbox.OutMessage] = field(default_factory=list)
    # The consumer span this delivery was handled in: work after the commit (an order sent to the
    # broker) continues the same trace through :meth:`StreamConsumer.span_after_commit`.
    span_context: Any = None

    def emit(self, stream: str, message: Contract) -> None:
        """Publish ``message`` downstream, atomically with this delivery's effect."""
        self.emitted.append((stream, message))

    @property
    def sent_at(self) -> float:
        return float(self.fields.get(outbox.F_SENT, "0") or 0)


class StreamConsumer:
    stream: ClassVar[str]
    group: ClassVar[str]
    queue: ClassVar[str]
    # A stage whose handle() has side effects outside the database (a broker call) keeps a
    # savepoint per message and checks receipts before handling; a stage that only writes to the
    # database (work outside it in after_commit) sets False to apply a clean batch in one go
    # (handle_batch) with fewer round trips. A batch that fails is rolled back and redone message
    # by message, so a counter incremented in handle() may count a message of it twice.
    savepoint_per_message: ClassVar[bool] = True
    # Entries read per micro-batch; None: ``BUS["BATCH"]``. A stage whose work is batched (model
    # inference) reads more at once.
    read_count: ClassVar[int | None] = None
    # Key partitioning of an ordered stage (``topology.stage_routes``, BUS_PARTITIONS): this
    # consumer's group is partition ``partition`` of ``partitions`` and applies only the messages
    # whose keys (:meth:`keys`) hash to it; the rest it acknowledges untouched.
    partition: ClassVar[int] = 0
    partitions: ClassVar[int] = 1

    def __init__(self, consumer_name: str | None = None) -> None:
        self.name = consumer_name or f"{socket.gethostname()}:{os.getpid()}"
        self.redis = redis_client()
        self.cfg = settings.BUS
        self._aligned = False

    # ---- what a stage implements ---------------------------------------------------------------
    def prepare(self, deliveries: list[Delivery]) -> None:
        """Optional: batch work done before the transaction (e.g. model inference on a batch)."""

    def handle(self, delivery: Delivery) -> None:
        """Apply one message's effect. Runs inside a savepoint of the batch transaction."""
        raise NotImplementedError

    def handle_batch(self, deliveries: list[Delivery]) -> None:
        """Apply a whole batch (fast path, stages with ``savepoint_per_message = False``).

        Default: :meth:`handle` each. A stage may override it to write in bulk; it must have the
        same effect as handling each message. On any error the batch is rolled back and redone
        message by message, each in its own savepoint.
        """
        for d in deliveries:
            self.handle(d)

    def after_commit(self, deliveries: list[Delivery]) -> None:
        """Optional: work after the batch committed and was acknowledged (e.g. notify the UI)."""

    def keys(self, delivery: Delivery) -> Iterable[str] | None:
        """The partition keys of a message (a partitioned stage: its tickers). None: every
        partition applies it. Only asked when the stage runs more than one partition."""
        return None

    # ---- partitions ----------------------------------------------------------------------------
    def owns(self, key: str) -> bool:
        """Does this partition apply ``key``? (Always, when the stage is not partitioned.)"""
        return self.partitions == 1 or partition_of(key, self.partitions) == self.partition

    def _mine(self, d: Delivery) -> bool:
        if self.partitions == 1 or d.message is None:
            return True
        keys = self.keys(d)
        return keys is None or any(self.owns(k) for k in keys)

    # ---- plumbing ------------------------------------------------------------------------------
    def ensure_group(self) -> None:
        if not self._aligned:
            self._align_group()
            self._aligned = True
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _align_group(self) -> None:
        """After BUS_PARTITIONS of this stage changed: start this group where the stage's groups
        of the old split stopped, so no entry is applied twice or skipped.

        The stage's groups on the stream that the current topology no longer drains (``signals``
        after a split into ``signals.0``/``signals.1``, or the partitions after going back to one)
        are *stale*. A new group is created at the newest entry delivered to a stale group; an
        existing one behind that is moved up to it. Change the split with the stage drained (no
        entry pending): what a stale group held pending stays with it (docs/scaling.md).
        """
        stage = self.group.partition(".")[0]
        groups = [g for g in stage_groups(self.stream) if g.stage == stage]
        stale = [g.last_delivered for g in groups if not g.current]
        if not stale:  # also: not a stage of the topology (the probe, a test's consumer)
            return
        start = max(stale, key=_stream_id)
        mine = next((g.last_delivered for g in groups if g.group == self.group), None)
        if mine is None:
            try:
                self.redis.xgroup_create(self.stream, self.group, id=start, mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            log.info("bus: %s starts after %s (the stage's previous split)", self.group, start)
        elif _stream_id(mine) < _stream_id(start):
            self.redis.xgroup_setid(self.stream, self.group, start)
            log.info("bus: %s moved up to %s (the stage's previous split)", self.group, start)

    def consume(self, count: int | None = None, block_ms: int | None = None) -> int:
        """Read new messages once and process them. Returns how many entries were read."""
        self.ensure_group()
        resp: Any = self.redis.xreadgroup(
            self.group,
            self.name,
            {self.stream: ">"},
            count=count or self.read_count or self.cfg["BATCH"],
            block=block_ms if block_ms else None,
        )
        entries = resp[0][1] if resp else []
        if entries:
            # A pure-database stage (batch fast path) skips the receipt lookup on first deliveries:
            # the receipt insert's unique constraint catches the rare duplicate event and the batch
            # is redone with receipts checked. A stage with side effects outside the database
            # always checks first, so a handler never runs for an event that was applied before.
            self._process(entries, checked=self.savepoint_per_message)
        return len(entries)

    def reclaim(self, min_idle_ms: int | None = None, count: int = 100) -> int:
        """Take over messages pending too long on any consumer (dead, stuck, or failed) and retry.

        Messages delivered more than MAX_DELIVERIES times go to the dead-letter stream instead.
        """
        self.ensure_group()
        idle = self.cfg["CLAIM_IDLE_MS"] if min_idle_ms is None else min_idle_ms
        start = "0-0"
        total = 0
        while True:
            resp = self.redis.xautoclaim(
                self.stream, self.group, self.name, idle, start_id=start, count=count
            )
            start = text(resp[0])
            entries = [e for e in resp[1] if e and e[1] is not None]
            deleted = resp[2] if len(resp) > 2 else []
            if deleted:  # trimmed away while pending: nothing left to process
                self.redis.xack(self.stream, self.group, *deleted)
            if entries:
                BUS_RECLAIMED.labels(self.group).inc(len(entries))
                log.info("bus: %s reclaimed %d message(s)", self.group, len(entries))
                counts = self._delivery_counts([text(e[0]) for e in entries])
                live = []
                for entry in entries:
                    mid = text(entry[0])
                    if counts.get(mid, 0) > self.cfg["MAX_DELIVERIES"]:
                        err = self._last_error(mid) or "delivered too many times (consumer died?)"
                        self._dead_letter(mid, outbox.raw_fields(entry[1]), err)
                    else:
                        live.append(entry)
                if live:
                    self._process(live, checked=True)
                total += len(entries)
            if start == "0-0":
                return total

    def drain(self, max_seconds: float | None = None, *, slot: int = 0) -> int:
        """Process until the stream stays quiet (the ``bus.drain`` task).

        With ``DRAIN_LINGER_MS`` > 0 the drain blocks on the stream that long for more work before
        it gives the worker back, so a busy stream is consumed continuously with no Celery dispatch
        per message. After ``max_seconds`` it re-queues itself so other tasks get the worker.

        Scale-out: on an unordered group (``topology.max_drains`` > 1) a drain that reads a full
        batch -- a backlog -- wakes the drain of the next slot, which a free worker of the queue
        runs in parallel; each reads the one consumer group under its own consumer name, so Redis
        hands each entry to one of them. Extra drains stop when the stream is quiet again. Slot 0
        keeps the no-lost-wake-up protocol; the others only add capacity.
        """
        linger = self.cfg["DRAIN_LINGER_MS"]
        if max_seconds is None:
            max_seconds = float(self.cfg.get("DRAIN_MAX_S", 30.0))
        deadline = time.monotonic() + max_seconds
        drains = max_drains(self.group)
        if drains > 1:
            self.name = f"{self.name}:{slot}"
        batch = self.read_count or self.cfg["BATCH"]
        try:
            return self._drain_loop(deadline, linger, drains, batch, slot)
        except BaseException:
            # A drain that dies of an error must not leave its flag set (publishers would queue
            # no new drain until it expires): the next publish wakes a fresh one.
            with contextlib.suppress(redis.exceptions.RedisError):
                outbox.clear_wake(self.group, slot)
            raise

    def _drain_loop(self, deadline: float, linger: int, drains: int, batch: int, slot: int) -> int:
        total = 0
        while True:
            if time.monotonic() >= deadline:
                outbox.clear_wake(self.group, slot)
                outbox.wake(self.group, self.queue, slot)
                return total
            n = self.consume(block_ms=linger or None)
            total += n
            if n:
                if n >= batch and slot + 1 < drains:
                    outbox.wake(self.group, self.queue, slot + 1)  # a backlog: one more drain
                continue
            # Quiet: clear the flag, then one last look. A message published after this read
            # finds the flag clear and queues a new drain, so nothing waits for beat.
            outbox.clear_wake(self.group, slot)
            n = self.consume()
            total += n
            if n == 0:
                return total
            outbox.hold_wake(self.group, slot)

    # ---- internals -----------------------------------------------------------------------------
    def _decode(self, entries: list[Any]) -> list[Delivery]:
        deliveries = []
        for mid_raw, raw in entries:
            fields = outbox.raw_fields(raw)
            d = Delivery(
                message_id=text(mid_raw), event_id=fields.get(outbox.F_EVENT, ""), fields=fields
            )
            try:
                uuid.UUID(d.event_id)
                d.message = codec.loads(fields.get(outbox.F_BODY, ""))
            except (ContractError, ValueError) as exc:
                d.error = f"undecodable message: {exc}"
            deliveries.append(d)
        return deliveries

    def span_after_commit(self, d: Delivery, name: str, **attributes: Any) -> Any:
        """A span for ``d``'s work after the commit, child of the span it was handled in."""
        parent = (
            trace.set_span_in_context(trace.NonRecordingSpan(d.span_context))
            if d.span_context is not None
            else self._context(d)
        )
        return tracer.start_as_current_span(name, context=parent, attributes=attributes)

    def _apply(self, d: Delivery) -> None:
        with self._span(d) as span:
            d.span_context = span.get_span_context()
            d.emitted.clear()
            self.handle(d)
            d.outputs = self._outputs(d)

    def _outputs(self, d: Delivery) -> list[outbox.OutMessage]:
        # Partitions of one stage may each emit for the same input (an article naming tickers of
        # two partitions): their outputs' ids are derived apart.
        scope = "" if self.partitions == 1 else f"/p{self.partition}of{self.partitions}"
        return [
            outbox.out_message(stream, msg, outbox.derived_event_id(d.event_id, stream + scope, i))
            for i, (stream, msg) in enumerate(d.emitted)
        ]

    def _process(self, entries: list[Any], *, checked: bool) -> None:
        started = time.perf_counter()
        deliveries = self._decode(entries)
        for d in deliveries:  # can never succeed: straight to the dead-letter stream
            if d.error:
                self._dead_letter(d.message_id, d.fields, d.error)
        todo = [d for d in deliveries if not d.error]
        # A partition acknowledges the messages of other partitions' keys without applying them
        # (no effect, no receipt: the partition that owns them applies them).
        foreign: list[Delivery] = []
        if self.partitions > 1:
            mine = [self._mine(d) for d in todo]
            foreign = [d for d, m in zip(todo, mine, strict=True) if not m]
            todo = [d for d, m in zip(todo, mine, strict=True) if m]
        if foreign:
            BUS_PROCESSED.labels(self.group, "other partition").inc(len(foreign))

        # Receipts: effects already committed (a redelivery). Their outputs are re-sent, since a
        # crash may have come between the commit and the XADD; downstream de-duplicates.
        done_before: dict[str, list[Any]] = {}
        if checked:
            receipts = ProcessedMessage.objects.filter(
                group=self.group, event_id__in=[d.event_id for d in todo]
            ).values_list("event_id", "outputs")
            done_before = {str(k): v for k, v in receipts}
        dupes: list[Delivery] = []
        fresh: list[Delivery] = []
        resend: list[outbox.OutMessage] = []
        for d in todo:  # already applied, or the same event twice in this batch
            if d.event_id in done_before:
                dupes.append(d)
                resend += [outbox.OutMessage.from_json(o) for o in done_before[d.event_id] or []]
            else:
                fresh.append(d)
                done_before[d.event_id] = []
        if dupes:
            BUS_PROCESSED.labels(self.group, "duplicate").inc(len(dupes))
            log.info("bus: %s skipped %d already-applied message(s)", self.group, len(dupes))

        try:
            ok, failed = self._commit(fresh) if fresh else ([], [])
        except ReceiptConflict:
            if checked:
                raise
            log.info("bus: %s met an already-applied event; re-checking receipts", self.group)
            return self._process(entries, checked=True)
        outputs = resend + [o for d in ok for o in d.outputs]
        # Committed. Forward what was emitted and acknowledge what is done, in one round trip --
        # never acknowledge what failed.
        ack_ids = [d.message_id for d in ok + dupes + foreign]

        def ack(pipe: Any) -> None:
            if ack_ids:
                pipe.xack(self.stream, self.group, *ack_ids)
                pipe.hdel(self._err_key, *ack_ids)

        try:
            outbox.xadd_messages(outputs, then=ack)
        except redis.exceptions.RedisError as exc:
            # Not acknowledged: the messages are reclaimed later and their outputs re-sent.
            log.warning(
                "bus: %s could not publish outputs; will retry via reclaim: %s", self.group, exc
            )
            return None
        if ok:
            BUS_PROCESSED.labels(self.group, "ok").inc(len(ok))
        for d in failed:
            BUS_PROCESSED.labels(self.group, "failed").inc()
            count = self._delivery_counts([d.message_id]).get(d.message_id, 1)
            if count >= self.cfg["MAX_DELIVERIES"]:
                self._dead_letter(d.message_id, d.fields, d.error)
        BUS_HANDLE_SECONDS.labels(self.group).observe(time.perf_counter() - started)
        if ok:
            self.after_commit(ok)
        return None

    def _commit(self, fresh: list[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
        """Apply ``fresh`` in one transaction with their receipts. Returns (ok, failed).

        Fast path: the whole batch without savepoints. If any message fails, the batch is rolled
        back and re-applied with a savepoint per message, so one bad message cannot block the rest.
        """
        try:
            self.prepare(fresh)
        except Exception:  # noqa: BLE001 - fall back to handle() without prepared data
            log.exception("bus: %s prepare() failed; handling one by one", self.group)
        if not self.savepoint_per_message:
            try:
                with transaction.atomic(), self._batch_span(fresh) as batch_span:
                    for d in fresh:
                        d.emitted.clear()
                    self.handle_batch(fresh)
                    # Each message's outputs continue its own trace (a span per message, child of
                    # its producer's), so one article stays one trace through batched stages.
                    for d in fresh:
                        span = batch_span if len(fresh) == 1 else self._message_span(d)
                        with trace.use_span(span, end_on_exit=len(fresh) > 1):
                            d.span_context = span.get_span_context()
                            d.outputs = self._outputs(d)
                    self._write_receipts(fresh)
                return fresh, []
            except ReceiptConflict:
                raise
            except Exception:  # noqa: BLE001 - retried below, one savepoint per message
                log.info("bus: %s batch failed; retrying message by message", self.group)
        ok: list[Delivery] = []
        failed: list[Delivery] = []
        with transaction.atomic():
            for d in fresh:
                try:
                    with transaction.atomic():
                        self._apply(d)
                    ok.append(d)
                except Exception as exc:  # noqa: BLE001 - one bad message must not stop the batch
                    d.error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "bus: %s failed on %s (%s): %s",
                        self.group,
                        d.message_id,
                        d.event_id,
                        d.error,
                    )
                    self._remember_error(d.message_id, traceback.format_exc())
                    failed.append(d)
            self._write_receipts(ok)
        return ok, failed

    def _write_receipts(self, ok: list[Delivery]) -> None:
        """Receipts, in the batch's transaction. A conflict means an event was applied before."""
        # No savepoint of its own (it would cost two round trips): a conflict aborts the batch's
        # transaction, which the caller rolls back and redoes with receipts checked first.
        try:
            ProcessedMessage.objects.bulk_create(
                [
                    ProcessedMessage(
                        group=self.group,
                        stream=self.stream,
                        event_id=d.event_id,
                        message_id=d.message_id,
                        outputs=[o.as_json() for o in d.outputs],
                    )
                    for d in ok
                ]
            )
        except IntegrityError as exc:
            raise ReceiptConflict(str(exc)) from exc

    @property
    def _err_key(self) -> str:
        return f"bus:errors:{self.group}"

    def _remember_error(self, message_id: str, error: str) -> None:
        try:
            self.redis.hset(self._err_key, message_id, error[-4000:])
        except redis.exceptions.RedisError as exc:
            # Only the dead-letter entry's error text is lost; the retry logic does not depend on it.
            log.warning("bus: %s could not record the error of %s: %s", self.group, message_id, exc)

    def _last_error(self, message_id: str) -> str:
        raw: Any = self.redis.hget(self._err_key, message_id)
        return raw.decode("utf-8", "replace") if raw else ""

    def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mid in ids:
            rows = self.redis.xpending_range(self.stream, self.group, min=mid, max=mid, count=1)
            if rows:
                counts[mid] = int(rows[0]["times_delivered"])
        return counts

    def _dead_letter(self, message_id: str, fields: dict[str, str], error: str) -> None:
        """Move a message to ``<stream>:dead`` with its error, then acknowledge it."""
        entry: dict[Any, Any] = {
            **fields,
            "error": error[-4000:],
            "group": self.group,
            "original_id": message_id,
            "dead_at": f"{wall_time():.6f}",
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(dead_letter(self.stream), entry, maxlen=self.cfg["MAXLEN"], approximate=True)
        pipe.xack(self.stream, self.group, message_id)
        pipe.hdel(self._err_key, message_id)
        pipe.execute()
        BUS_PROCESSED.labels(self.group, "dead").inc()
        log.error(
            "bus: %s dead-lettered %s (event %s): %s",
            self.group,
            message_id,
            fields.get(outbox.F_EVENT),
            error.strip().splitlines()[-1:] or error,
        )

    def _batch_span(self, batch: list[Delivery]) -> Any:
        """One span for a batch: a child of the producer's span for a single message, else linked
        to every message's producer span (the OpenTelemetry messaging convention for batches)."""
        if len(batch) == 1:
            return self._span(batch[0])
        links = [
            trace.Link(span.get_span_context())
            for span in (trace.get_current_span(self._context(d)) for d in batch)
            if span.get_span_context().is_valid
        ]
        return tracer.start_as_current_span(
            f"consume {self.stream}",
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "redis_streams",
                "messaging.destination.name": self.stream,
                "messaging.consumer.group.name": self.group,
                "messaging.batch.message_count": len(batch),
            },
        )

    def _context(self, d: Delivery) -> Any:
        try:
            carrier = json.loads(d.fields.get(outbox.F_TRACE, "{}") or "{}")
        except ValueError:
            carrier = {}
        return propagate.extract(carrier)

    def _attributes(self, d: Delivery) -> dict[str, Any]:
        return {
            "messaging.system": "redis_streams",
            "messaging.destination.name": self.stream,
            "messaging.consumer.group.name": self.group,
            "messaging.message.id": d.message_id,
        }

    def _message_span(self, d: Delivery) -> Any:
        """A span of one message of a batch (a child of its producer's), not made current."""
        return tracer.start_span(
            f"consume {self.stream}",
            context=self._context(d),
            kind=trace.SpanKind.CONSUMER,
            attributes={**self._attributes(d), "messaging.batch.message_count": 1},
        )

    def _span(self, d: Delivery) -> Any:
        return tracer.start_as_current_span(
            f"consume {self.stream}",
            context=self._context(d),
            kind=trace.SpanKind.CONSUMER,
            attributes=self._attributes(d),
        )


def _stream_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)
