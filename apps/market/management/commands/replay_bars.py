"""``manage.py replay_bars AAPL,MSFT --timeframe 1Day --start 2017-01-01 --speed 86400``.

With ``--drive`` the replay drives the live pipeline (the embedded default of ``make run``): at each
moment bars become visible it publishes the simulated "now" and queues ``signals.bars_arrived`` on
the signals queue, so the simulated broker fills at those bars and the strategies decide at that
time, with the news visible by then. ``--hold`` keeps the process alive after the last bar (honcho
stops every process when one exits).
"""

from __future__ import annotations

import time
from itertools import chain, groupby
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.bus import jobs
from apps.bus.queues import Queue
from apps.market.management.commands._args import symbols, until, when
from apps.market.selectors import bars_iter
from apps.market.services import price_cache_set, replay_clock_set
from apps.market.sources.replay import SimClock, bar_visible_at, merge_by_visibility, replay


class Command(BaseCommand):
    help = (
        "Play stored bars on a simulated clock (speed = simulated seconds per wall second, 0 = "
        "as fast as possible), updating the latest-price cache as a live feed would; --drive "
        "also drives the live pipeline at market time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", type=symbols)
        parser.add_argument("--timeframe", default="1Day")
        parser.add_argument("--start", type=when, default=None)
        parser.add_argument("--end", type=until, default=None)
        parser.add_argument("--speed", type=float, default=0.0)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--drive", action="store_true", help="queue signals.bars_arrived at each step"
        )
        parser.add_argument("--hold", action="store_true", help="stay alive after the last bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        drive = opts["drive"]
        if drive and settings.BROKER_KIND != "simulated":
            self.stdout.write(
                f"replay: broker is {settings.BROKER_KIND!r} (live market data): replay not driving"
            )
            return self._hold(opts["hold"])
        streams = [
            bars_iter(symbol=s, timeframe=opts["timeframe"], start=opts["start"], end=opts["end"])
            for s in opts["symbols"]
        ]
        merged = merge_by_visibility(*streams)
        first = next(merged, None)
        if first is None:
            self.stdout.write(self.style.WARNING("no stored bars in that range (run load_bars?)"))
            return self._hold(opts["hold"])
        clock = SimClock(bar_visible_at(first), speed=opts["speed"])
        n = 0
        for at, group in groupby(replay(chain([first], merged), clock), key=lambda item: item[0]):
            names = []
            for _, bar in group:
                price_cache_set(symbol=bar.symbol, price=bar.close, at=bar.time)
                names.append(bar.symbol)
                n += 1
                if not opts["quiet"]:
                    self.stdout.write(f"{at.isoformat()} {bar.symbol:6} close {bar.close}")
            if drive:
                self._drive(names, at)
        self.stdout.write(self.style.SUCCESS(f"replayed {n} bars up to {clock.now().isoformat()}"))
        return self._hold(opts["hold"])

    def _drive(self, names: list[str], at: Any) -> None:
        replay_clock_set(at=at)
        jobs.enqueue(jobs.SIGNALS_BARS_ARRIVED, (names, at.isoformat()), queue=Queue.SIGNALS.value)
        self.stdout.write(f"replay: market time {at.isoformat()} ({', '.join(names)})")

    def _hold(self, hold: bool) -> None:
        if not hold:
            return
        self.stdout.write("replay: finished; holding (Ctrl-C to stop)")
        while True:
            time.sleep(3600)
