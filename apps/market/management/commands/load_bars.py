"""``manage.py load_bars [--dataset demo]``: load the bars shipped in data/bars (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.market.services import DATASETS, dataset_load


class Command(BaseCommand):
    help = (
        "Load a data set shipped in data/bars into market_data. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", default="demo", choices=sorted(DATASETS))

    def handle(self, *args: Any, **opts: Any) -> None:
        loaded = dataset_load(name=opts["dataset"])
        for f in loaded:
            self.stdout.write(f"{f.symbol:6} {f.timeframe:5} {f.rows:6} bars  {f.path.name}")
        self.stdout.write(
            self.style.SUCCESS(f"{sum(f.rows for f in loaded)} bars from {len(loaded)} files")
        )
