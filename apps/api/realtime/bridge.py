"""The event bridge: a consumer group of its own (``api-events``) on the bus streams that forwards
committed events to the UI event stream and the sockets, plus a watch on the trading switch and the
strategy weights (which change outside the bus: learning cycles, the admin, the CLI, the API).

Bus messages are published only after their producer's transaction commits (the outbox), so what
the bridge forwards is committed. Delivery is at least once; ``event_publish`` drops a bus event it
has already forwarded (by its event id), so a redelivery never shows twice.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any, cast

import redis
from django.db import close_old_connections

from apps.api import store
from apps.api.metrics import EVENT_BRIDGE_LAG
from apps.api.realtime.events import EventType, event_publish
from apps.bus import outbox
from apps.bus.names import Stream
from apps.core.clock import wall_time
from apps.execution.models import TradingControl
from apps.strategies.models import Strategy

log = logging.getLogger(__name__)

GROUP = "api-events"
CLAIM_IDLE_MS = 30_000
WATCH_EVERY_S = 0.5

# Field names of a bus stream entry.
F_EVENT, F_BODY, F_SENT = (f.encode() for f in (outbox.F_EVENT, outbox.F_BODY, outbox.F_SENT))


def bus_streams() -> dict[str, str]:
    """Bus stream -> the UI event type it becomes (trades: per message, fill or order update)."""
    return {
        Stream.TRADES_EXECUTED.value: "trade",
        Stream.SIGNALS_GENERATED.value: EventType.SIGNAL_GENERATED,
        Stream.NEWS_SCORED.value: EventType.ARTICLE_SCORED,
    }


def event_for(stream: str, fields: Mapping[bytes, bytes]) -> tuple[EventType, dict[str, Any], str]:
    """The UI event of one bus entry: (type, data, bus event id)."""
    body = json.loads(fields[F_BODY])
    data = cast("dict[str, Any]", body.get("data") or {})
    kind = bus_streams()[stream]
    if kind == "trade":
        filled = data.get("status") in ("filled", "partially_filled")
        etype = EventType.TRADE_EXECUTED if filled else EventType.ORDER_UPDATED
    else:
        etype = EventType(kind)
    return etype, data, fields.get(F_EVENT, b"").decode()


class EventBridge:
    def __init__(self, consumer: str | None = None) -> None:
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.streams = list(bus_streams())
        self._state: tuple[str, str] | None = None
        self._weights: dict[str, str] | None = None
        self._watched_at = 0.0
        self._claimed_at = 0.0

    def ensure_groups(self) -> None:
        r = store.redis_client()
        for stream in self.streams:
            try:
                # "$": the bridge starts with what is published from now on; after a restart its
                # group resumes where it stopped.
                r.xgroup_create(stream, GROUP, id="$", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def step(self, *, block_ms: int = 1000, pending: bool = False) -> int:
        """Forward one batch (blocking up to ``block_ms``); returns how many entries it handled."""
        r = store.redis_client()
        ids: dict[Any, Any] = {s: ("0" if pending else ">") for s in self.streams}
        reply = cast(
            "list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]",
            r.xreadgroup(GROUP, self.consumer, ids, count=200, block=None if pending else block_ms)
            or [],
        )
        handled = 0
        for stream_b, entries in reply:
            stream = stream_b.decode()
            acks: list[bytes] = []
            for entry_id, fields in entries:
                if fields:
                    self._forward(stream, fields)
                acks.append(entry_id)
            if acks:
                r.xack(stream, GROUP, *acks)
            handled += len(acks)
        self.watch()
        self.reclaim()
        return handled

    def _forward(self, stream: str, fields: Mapping[bytes, bytes]) -> None:
        try:
            etype, data, event_id = event_for(stream, fields)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("event bridge: skipped an undecodable %s entry: %s", stream, exc)
            return
        event_publish(type=etype, data=data, source_id=event_id)
        sent = fields.get(F_SENT)
        if sent:
            EVENT_BRIDGE_LAG.observe(max(0.0, wall_time() - float(sent)))

    def reclaim(self) -> None:
        """Take over entries a dead bridge process left pending."""
        now = time.monotonic()
        if now - self._claimed_at < CLAIM_IDLE_MS / 1000:
            return
        self._claimed_at = now
        r = store.redis_client()
        for stream in self.streams:
            reply = r.xautoclaim(
                stream, GROUP, self.consumer, min_idle_time=CLAIM_IDLE_MS, count=200
            )
            entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", reply[1])
            acks = []
            for entry_id, fields in entries:
                if fields:
                    self._forward(stream, fields)
                acks.append(entry_id)
            if acks:
                r.xack(stream, GROUP, *acks)

    def watch(self, *, force: bool = False) -> None:
        """Emit trading.state_changed / weights.changed when the switch or the weights moved."""
        now = time.monotonic()
        if not force and now - self._watched_at < WATCH_EVERY_S:
            return
        self._watched_at = now

        close_old_connections()
        control = (
            TradingControl.objects.filter(pk=1).values_list("state", "reason", "changed_at").first()
        )
        state = (str(control[0]), str(control[1])) if control else ("active", "")
        weights = {
            n: str(w) for n, w in Strategy.objects.filter(active=True).values_list("name", "weight")
        }
        if self._state is not None and state != self._state:
            event_publish(
                type=EventType.TRADING_STATE_CHANGED,
                data={
                    "state": state[0],
                    "reason": state[1],
                    "changed_at": control[2].isoformat() if control and control[2] else None,
                },
            )
        if self._weights is not None and weights != self._weights:
            event_publish(type=EventType.WEIGHTS_CHANGED, data={"weights": weights})
        self._state, self._weights = state, weights

    def run(self, stop: threading.Event) -> None:
        self.ensure_groups()
        self.step(pending=True)  # what this consumer had been handed before a restart
        self.watch(force=True)
        while not stop.is_set():
            close_old_connections()  # a long-running process: drop broken/old DB connections
            try:
                self.step(block_ms=1000)
            except redis.RedisError as exc:
                log.warning("event bridge: redis unavailable (%s); retrying", exc)
                stop.wait(1.0)
