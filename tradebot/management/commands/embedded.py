"""Manage the embedded PostgreSQL/Redis: `manage.py embedded status|stop`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tradebot import embedded


class Command(BaseCommand):
    help = "Show or stop the embedded servers under the data folder."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "stop":
            embedded.stop_all(settings.DATA_DIR, settings.EMBEDDED_REDIS_PORT)
            self.stdout.write("embedded servers stopped")
        else:
            db = settings.DATABASES["default"]
            self.stdout.write(f"postgres: {db.get('HOST')} {db.get('NAME')}")
            self.stdout.write(f"redis: {settings.REDIS_URL}")
