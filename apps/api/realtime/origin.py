"""Only the dashboard's origin may open a WebSocket (CORS does not apply to WebSockets)."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


def allowed_origins() -> list[str]:
    """The dashboard's origin and the API's own (the dashboard is also served by the web process)."""
    return [settings.DASHBOARD_ORIGIN, settings.API_ORIGIN]


class DashboardOriginValidator(OriginValidator):
    """Channels' OriginValidator, reading the allowed origins from settings on each connection.
    A socket without an Origin header is refused too."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins())

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        self.allowed_origins = allowed_origins()
        return bool(super().valid_origin(parsed_origin))
