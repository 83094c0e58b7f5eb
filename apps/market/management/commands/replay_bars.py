"""``manage.py replay_bars AAPL,MSFT --timeframe 1Day --start 2017-01-01 --speed 86400``."""

from __future__ import annotations

from itertools import chain
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._args import symbols, until, when
from apps.market.selectors import bars_iter
from apps.market.services import price_cache_set
from apps.market.sources.replay import SimClock, bar_visible_at, merge_by_visibility, replay


class Command(BaseCommand):
    help = (
        "Play stored bars on a simulated clock (speed = simulated seconds per wall second, 0 = "
        "as fast as possible), updating the latest-price cache as a live feed would."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", type=symbols)
        parser.add_argument("--timeframe", default="1Day")
        parser.add_argument("--start", type=when, default=None)
        parser.add_argument("--end", type=until, default=None)
        parser.add_argument("--speed", type=float, default=0.0)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        streams = [
            bars_iter(symbol=s, timeframe=opts["timeframe"], start=opts["start"], end=opts["end"])
            for s in opts["symbols"]
        ]
        merged = merge_by_visibility(*streams)
        first = next(merged, None)
        if first is None:
            self.stdout.write(self.style.WARNING("no stored bars in that range (run load_bars?)"))
            return
        clock = SimClock(bar_visible_at(first), speed=opts["speed"])
        n = 0
        for at, bar in replay(chain([first], merged), clock):
            price_cache_set(symbol=bar.symbol, price=bar.close, at=bar.time)
            n += 1
            if not opts["quiet"]:
                self.stdout.write(f"{at.isoformat()} {bar.symbol:6} close {bar.close}")
        self.stdout.write(self.style.SUCCESS(f"replayed {n} bars up to {clock.now().isoformat()}"))
