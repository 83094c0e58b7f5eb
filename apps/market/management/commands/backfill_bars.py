"""``manage.py backfill_bars AAPL,MSFT --start 2024-01-01 --end 2024-06-30 --timeframe 1Day``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from apps.market.clock import market_clock
from apps.market.management.commands._args import symbols, until, when
from apps.market.sources.alpaca import backfill


class Command(BaseCommand):
    help = "Fetch historical bars from Alpaca (alpaca-py) into market_data; safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", type=symbols, help="comma-separated tickers")
        parser.add_argument("--start", type=when, required=True)
        parser.add_argument("--end", type=until, default=None, help="default: now")
        parser.add_argument("--timeframe", default="1Day", help="1Min, 5Min, 15Min, 1Hour, 1Day")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        end = opts["end"] or market_clock().now()

        def progress(it: Any) -> Any:
            return tqdm(
                it, desc=f"backfill {opts['timeframe']}", unit="chunk", disable=opts["no_progress"]
            )

        written = backfill(
            opts["symbols"],
            start=opts["start"],
            end=end,
            timeframe=opts["timeframe"],
            progress=progress,
        )
        for sym, n in written.items():
            self.stdout.write(f"{sym}: {n} bars")
        self.stdout.write(self.style.SUCCESS(f"backfilled {sum(written.values())} bars"))
