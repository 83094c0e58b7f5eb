"""The dashboard's WebSocket (``/ws/?ticket=…``): pushes UI events; no polling needed.

Protocol (server → client JSON): ``{"type": "hello", "last_id": "<id>"}`` once, then events
(``{"id", "type", "at", "data"}``, see ``events.py``), and ``{"type": "pong"}`` for a client's
``{"type": "ping"}``. Close codes: 4401 bad or used ticket, 4001 signed out / session revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.api.auth.notify import family_group
from apps.api.auth.tokens import family_is_revoked
from apps.api.metrics import WS_CONNECTIONS
from apps.api.realtime.events import GROUP_ALL, last_event_id
from apps.api.realtime.tickets import ticket_take

log = logging.getLogger(__name__)

CLOSE_BAD_TICKET = 4401
CLOSE_REVOKED = 4001
WATCH_EVERY_S = 30.0  # re-check revocation and renew group membership (channels-redis expiry)


class EventsConsumer(AsyncJsonWebsocketConsumer):
    family: str = ""
    user_id: int = 0
    _watch: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        ticket = (query.get("ticket") or [""])[0]
        grant = await database_sync_to_async(ticket_take)(ticket)
        if grant is None or await database_sync_to_async(family_is_revoked)(grant["family"]):
            WS_CONNECTIONS.labels("refused").inc()
            await self.close(code=CLOSE_BAD_TICKET)
            return
        self.user_id, self.family = int(grant["user_id"]), str(grant["family"])
        await self._join()
        await self.accept()
        WS_CONNECTIONS.labels("accepted").inc()
        await self.send_json(
            {"type": "hello", "last_id": await database_sync_to_async(last_event_id)()}
        )
        self._watch = asyncio.ensure_future(self._watcher())

    async def _join(self) -> None:
        await self.channel_layer.group_add(GROUP_ALL, self.channel_name)
        await self.channel_layer.group_add(family_group(self.family), self.channel_name)

    async def _watcher(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            if await database_sync_to_async(family_is_revoked)(self.family):
                await self.close(code=CLOSE_REVOKED)
                return
            await self._join()

    async def disconnect(self, code: int) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch
        if self.family:
            await self.channel_layer.group_discard(GROUP_ALL, self.channel_name)
            await self.channel_layer.group_discard(family_group(self.family), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def event_message(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def session_revoked(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_REVOKED)
