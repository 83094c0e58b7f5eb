"""``manage.py check_gaps [SYMBOLS] [--timeframe 1Day] [--start --end]``: missing sessions/minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._args import symbols, until, when
from apps.market.selectors import bars_missing, bars_symbols


class Command(BaseCommand):
    help = "Report expected bars (exchange calendar) that are absent from market_data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", type=symbols, nargs="?", default=None)
        parser.add_argument("--timeframe", default="1Day")
        parser.add_argument("--start", type=when, default=None)
        parser.add_argument("--end", type=until, default=None)
        parser.add_argument("--show", type=int, default=5, help="list at most N missing times")

    def handle(self, *args: Any, **opts: Any) -> None:
        tf = opts["timeframe"]
        total = 0
        for sym in opts["symbols"] or bars_symbols(timeframe=tf):
            missing = bars_missing(symbol=sym, timeframe=tf, start=opts["start"], end=opts["end"])
            total += len(missing)
            shown = ", ".join(t.isoformat() for t in missing[: opts["show"]])
            more = " ..." if len(missing) > opts["show"] else ""
            self.stdout.write(
                f"{sym:6} {tf}: {len(missing)} missing{': ' + shown + more if missing else ''}"
            )
        style = self.style.WARNING if total else self.style.SUCCESS
        self.stdout.write(style(f"{total} missing bars"))
