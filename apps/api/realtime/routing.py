from __future__ import annotations

from django.urls import path

from apps.api.realtime.consumers import EventsConsumer

websocket_urlpatterns = [path("ws/", EventsConsumer.as_asgi())]  # type: ignore[arg-type]
