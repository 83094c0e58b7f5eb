"""`make run`'s data step: the bundled real bars and news, and the offline sentiment model.

Idempotent. Loading is quick; training the offline sentiment model is not, so it starts in the
background and the sentiment worker switches to it when it appears. Until then scoring logs
plainly which fallback it uses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.sentiment.services import training_ensure_background


class Command(BaseCommand):
    help = "Load the bundled bars and news; start training the offline sentiment model if missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-train", action="store_true", help="never start training")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("load_bars", dataset="demo")
        if settings.DEMO_NEWS:
            call_command("load_news")
        else:
            self.stdout.write("demo news: skipped (DEMO_NEWS=false)")
        self.stdout.write(training_ensure_background(allow=not opts["no_train"]))
