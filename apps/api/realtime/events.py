"""UI events: one Redis stream (``api:events``) whose entry ids are the events' ids, so a client
that reconnects asks for what came after the last id it saw (``GET /api/events?since=``), and one
channel-layer group that pushes each event to the open sockets.

Event shape (JSON): ``{"id": "<stream id>", "type": "<type>", "at": "<ISO time>", "data": {...}}``.
Decimals and datetimes inside ``data`` are strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.api import store
from apps.api.metrics import WS_EVENTS
from apps.core.clock import wall_now, wall_time

STREAM = "api:events"
GROUP_ALL = "events"
_SEEN = "api:events:seen:{}"
ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")


class EventType(StrEnum):
    TRADE_EXECUTED = "trade.executed"  # a fill (partial or full)
    ORDER_UPDATED = "order.updated"  # accepted, canceled, rejected, expired
    SIGNAL_GENERATED = "signal.generated"
    ARTICLE_SCORED = "article.scored"
    WEIGHTS_CHANGED = "weights.changed"
    TRADING_STATE_CHANGED = "trading.state_changed"


def _decode(entry_id: bytes | str, fields: dict[bytes, bytes]) -> dict[str, Any]:
    eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return {
        "id": eid,
        "type": fields[b"type"].decode(),
        "at": fields[b"at"].decode(),
        "data": json.loads(fields[b"data"]),
    }


def event_publish(
    *, type: EventType, data: dict[str, Any], source_id: str = "", at: datetime | None = None
) -> dict[str, Any] | None:
    """Append an event and push it to every socket. ``source_id`` (the bus event id) makes a
    redelivered bus message publish nothing the second time. Returns the event, or None if seen."""
    r = store.redis_client()
    if source_id and not r.set(_SEEN.format(source_id), b"1", nx=True, ex=24 * 3600):
        return None
    stamp = (at or wall_now()).isoformat()
    body = json.dumps(data, default=str)
    entry_id = cast(
        "bytes",
        r.xadd(
            STREAM,
            {"type": str(type), "at": stamp, "data": body},
            maxlen=settings.API_EVENTS_MAXLEN,
            approximate=True,
        ),
    )
    event = {"id": entry_id.decode(), "type": str(type), "at": stamp, "data": json.loads(body)}
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(GROUP_ALL, {"type": "event.message", "event": event})
    WS_EVENTS.labels(str(type)).inc()
    return event


@dataclass(frozen=True)
class CatchUp:
    events: list[dict[str, Any]]
    last_id: str
    more: bool
    reset: bool  # ``since`` is older than the kept history: reload everything, then follow


def events_since(*, since: str, limit: int) -> CatchUp:
    """Events after ``since`` (exclusive), oldest first, at most ``limit``."""
    r = store.redis_client()
    start = f"({since}" if since else "-"
    rows = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]",
        r.xrange(STREAM, min=start, max="+", count=limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    reset = False
    if since:
        first = cast("list[tuple[bytes, dict[bytes, bytes]]]", r.xrange(STREAM, count=1))
        if first and _id_tuple(first[0][0].decode()) > _id_tuple(since):
            reset = True  # the event right after ``since`` may have been trimmed
    events = [_decode(eid, f) for eid, f in rows]
    last = events[-1]["id"] if events else (since or last_event_id())
    return CatchUp(events=events, last_id=last, more=more, reset=reset)


def last_event_id() -> str:
    r = store.redis_client()
    rows = cast("list[tuple[bytes, dict[bytes, bytes]]]", r.xrevrange(STREAM, count=1))
    return rows[0][0].decode() if rows else "0-0"


def _id_tuple(eid: str) -> tuple[int, int]:
    ms, _, seq = eid.partition("-")
    return int(ms), int(seq or 0)


def now_ms() -> int:
    return int(wall_time() * 1000)
