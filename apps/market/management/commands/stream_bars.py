"""``manage.py stream_bars AAPL,MSFT [--daily]``: live bars from Alpaca's data WebSocket."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._args import symbols
from apps.market.sources.alpaca import BarStream


class Command(BaseCommand):
    help = "Stream live minute (and daily) bars into market_data until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "symbols",
            type=symbols,
            nargs="?",
            default=None,
            help="comma-separated tickers (default: TRADING_SYMBOLS)",
        )
        parser.add_argument("--daily", action="store_true", help="also subscribe to daily bars")

    def handle(self, *args: Any, **opts: Any) -> None:
        stream = BarStream(opts["symbols"] or settings.TRADING_SYMBOLS, daily=opts["daily"])
        try:
            stream.run()
        except KeyboardInterrupt:
            stream.stop()
