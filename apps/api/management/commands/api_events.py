"""Run the event bridge: bus events (and trading-switch / weight changes) to the dashboard's sockets."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from apps.api.realtime.bridge import EventBridge


class Command(BaseCommand):
    help = "Forward committed bus events to the dashboard's WebSockets (consumer group api-events)."

    def handle(self, *args: Any, **opts: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(
            "event bridge: forwarding trades, signals, scored articles, state changes"
        )
        EventBridge().run(stop)
