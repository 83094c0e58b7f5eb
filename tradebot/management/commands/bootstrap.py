"""Idempotent first-run set-up: strategies table, beat schedule, trading control."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tradebot.bootstrap import bootstrap


class Command(BaseCommand):
    help = "Seed the strategies table, the beat schedule and the trading control (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = bootstrap()
        for key, value in report.items():
            self.stdout.write(f"{key}: {value}")
