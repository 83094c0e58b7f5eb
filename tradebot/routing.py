"""WebSocket routes (the dashboard's Channels consumers join here)."""

from __future__ import annotations

from typing import Any

from apps.api.realtime.routing import websocket_urlpatterns as api_websockets

websocket_urlpatterns: list[Any] = [*api_websockets]
