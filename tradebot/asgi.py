"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes added by the API)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradebot.settings.base")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from tradebot import telemetry  # noqa: E402
from tradebot.routing import websocket_urlpatterns  # noqa: E402

telemetry.setup(service=os.environ.get("OTEL_SERVICE_NAME", "tradebot-web"))

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
