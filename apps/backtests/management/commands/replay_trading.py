"""``manage.py replay_trading --symbols AAPL,MSFT,AMZN,GOOGL,NVDA --start 2017-01-01 --end 2017-06-30``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.execution.costs import commission_parse, slippage_parse
from apps.execution.services.replay import REPLAY_LABEL, ReplayReport, replay_trading
from apps.learning.services import ReplayLearning


class Command(BaseCommand):
    help = (
        "Replay stored daily bars through the strategies, the ensemble, risk and the simulated "
        "broker, in-process, leaving signals, trades, positions and P&L in the database (broker "
        "label 'replay'; see them in the admin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--symbols", default="AAPL,MSFT,AMZN,GOOGL,NVDA")
        parser.add_argument("--start", type=date.fromisoformat, default=date(2017, 1, 1))
        parser.add_argument("--end", type=date.fromisoformat, default=date(2017, 6, 30))
        parser.add_argument("--cash", type=Decimal, default=Decimal(100_000))
        parser.add_argument("--commission", default=None, help="e.g. per_share:0.005, bps:10")
        parser.add_argument("--slippage", default=None, help="e.g. bps:5, spread:2")
        parser.add_argument(
            "--keep", action="store_true", help="continue the previous replay instead of resetting"
        )
        parser.add_argument(
            "--with-news",
            action="store_true",
            help="load and score the bundled news (StockNet tweets, Q4 2015) first",
        )
        parser.add_argument(
            "--learning",
            action="store_true",
            help="record the replay's own outcomes and run learning cycles on its clock (its "
            "own weights; the live weights are never touched)",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="also publish signals/trades to the streams (live consumers will see them)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        symbols = [s.strip().upper() for s in opts["symbols"].split(",") if s.strip()]

        def progress(i: int, n: int, day: date, r: ReplayReport) -> None:
            if i == n or i % 10 == 0:
                bar = "#" * int(30 * i / n)
                self.stdout.write(f"\r[{bar:<30}] {i}/{n} {day}  signals {r.signals}", ending="")
                self.stdout.flush()

        r = replay_trading(
            symbols=symbols,
            start=opts["start"],
            end=opts["end"],
            cash=opts["cash"],
            fresh=not opts["keep"],
            publish=opts["publish"],
            with_news=opts["with_news"],
            commission=commission_parse(opts["commission"]) if opts["commission"] else None,
            slippage=slippage_parse(opts["slippage"]) if opts["slippage"] else None,
            progress=progress,
            # always handed in: a fresh replay clears its own learning rows too
            learner=ReplayLearning(
                account=REPLAY_LABEL, broker=REPLAY_LABEL, enabled=opts["learning"]
            ),
        )
        self.stdout.write("")
        w = self.stdout.write
        w(f"days replayed      {r.days} ({opts['start']} .. {opts['end']}, {', '.join(symbols)})")
        w(f"signals            {r.signals} {r.signals_by_direction}")
        w(f"orders             {r.orders} (filled {r.fills}, closing fills {r.closed_trades})")
        w(f"realised P&L       {r.realized_pnl:.2f} (commission {r.commission:.2f})")
        w(f"unrealised P&L     {r.unrealized_pnl:.2f}")
        w(f"equity             {r.start_equity:.2f} -> {r.end_equity:.2f}")
        w(f"open positions     {', '.join(r.open_positions) or 'none'}")
        w(f"trading state      {r.trading_state}")
        if opts["learning"]:
            w(f"learning           {r.outcomes} outcome(s), cycles {dict(r.cycles)}")
        if r.reconcile is not None:
            w(f"reconciliation     {r.reconcile.summary()}")
        self.stdout.write(
            self.style.SUCCESS("done: see /admin/execution/trade/?broker=replay and the signals")
        )
