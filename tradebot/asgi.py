"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes added by the API)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradebot.settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.api.realtime.origin import DashboardOriginValidator  # noqa: E402
from tradebot import telemetry  # noqa: E402
from tradebot.routing import websocket_urlpatterns  # noqa: E402

telemetry.setup(service=os.environ.get("OTEL_SERVICE_NAME", "tradebot-web"))

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # No session/cookie auth on sockets: a single-use ticket (apps/api/realtime), and only the
        # dashboard's origin (CORS does not apply to WebSockets).
        "websocket": DashboardOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
