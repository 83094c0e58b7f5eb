"""`make run`'s data step: the bundled real bars and news, and the offline sentiment model.

Idempotent. Loading is quick; training the offline sentiment model is not, so it starts in the
background (niced, logged under the data folder) and the sentiment worker switches to it when it
appears. Until then scoring logs plainly which fallback it uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the bundled bars and news; start training the offline sentiment model if missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-train", action="store_true", help="never start training")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("load_bars", dataset="demo")
        call_command("load_news")
        self._maybe_train(skip=opts["no_train"])

    def _maybe_train(self, *, skip: bool) -> None:
        models = Path(settings.SENTIMENT_MODELS_DIR)
        if settings.FINBERT_MODEL:
            self.stdout.write(f"sentiment: FinBERT tier configured ({settings.FINBERT_MODEL})")
            return
        if (models / "LATEST").is_file():
            self.stdout.write(f"sentiment: trained model present ({models / 'LATEST'})")
            return
        if skip or not settings.SENTIMENT_AUTO_TRAIN:
            self.stdout.write(
                "sentiment: no trained model; scoring uses the VADER lexicon fallback "
                "(run `manage.py train_sentiment`)"
            )
            return
        logs = Path(settings.DATA_DIR) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        pidfile = logs / "train_sentiment.pid"
        if pidfile.is_file():
            try:
                os.kill(int(pidfile.read_text()), 0)
                self.stdout.write("sentiment: training already running in the background")
                return
            except (ProcessLookupError, ValueError):
                pass
        log = open(logs / "train_sentiment.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, "manage.py", "train_sentiment", "--no-progress"],
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pidfile.write_text(str(proc.pid))
        self.stdout.write(
            "sentiment: training the offline model in the background "
            f"(log: {logs / 'train_sentiment.log'}); the VADER lexicon scores until it is ready"
        )
