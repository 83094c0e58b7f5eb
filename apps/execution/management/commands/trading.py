"""``manage.py trading {status,pause,resume,reset,reconcile}``: the trading switch and kill switch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.execution.selectors import orders_open, pnl_summary, positions_open
from apps.execution.services import (
    context_live,
    orders_sync,
    reconcile,
    trading_control,
    trading_pause,
    trading_reset,
    trading_resume,
)


class Command(BaseCommand):
    help = (
        "status: state, limits and open orders; pause: kill switch (PAUSED + cancel every open "
        "order); resume: PAUSED -> ACTIVE (stops re-placed); reset: HALTED -> ACTIVE with the loss "
        "limits restarted from current equity; reconcile: compare with the broker now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "pause", "resume", "reset", "reconcile"])
        parser.add_argument("--reason", default="", help="why (pause)")
        parser.add_argument("--account", type=int, default=1, help="TradingControl row (2: replay)")

    def handle(self, *args: Any, **opts: Any) -> None:
        action, pk = opts["action"], opts["account"]
        ctx = context_live() if pk == 1 else None
        if action == "pause":
            canceled = trading_pause(
                reason=opts["reason"] or "kill switch (manage.py trading pause)",
                broker=ctx.broker if ctx else None,
                pk=pk,
            )
            self.stdout.write(f"paused; canceled {len(canceled)} open order(s)")
            if ctx is not None:
                orders_sync(ctx)
        elif action == "resume":
            trading_resume(pk=pk)
            if ctx is not None:
                report = reconcile(ctx)  # also re-places the stops the kill switch canceled
                self.stdout.write(f"stops placed: {', '.join(report.stops_placed) or 'none'}")
        elif action == "reset":
            equity = ctx.broker.account().equity if ctx else None
            trading_reset(equity=equity, pk=pk)
            self.stdout.write(f"reset; limits restart from equity {equity}")
        elif action == "reconcile":
            if ctx is None:
                self.stderr.write("reconcile runs against the live broker only (--account 1)")
                return
            report = reconcile(ctx)
            self.stdout.write(f"reconciliation: {report.summary()}")
        c = trading_control(pk=pk)
        self.stdout.write(f"trading {c.state} ({c.label}): {c.reason or '-'}")
        self.stdout.write(
            f"peak equity {c.peak_equity}  day start {c.day_start_equity} ({c.day or '-'})"
        )
        if ctx is not None:
            acct = ctx.broker.account()
            self.stdout.write(f"broker {ctx.label}: equity {acct.equity} cash {acct.cash}")
            label = ctx.label
        else:
            label = c.label
        n_open = orders_open(broker=label).count()
        pnl = pnl_summary(broker=label)
        self.stdout.write(
            f"orders {pnl.orders} (open {n_open}, filled {pnl.filled}, rejected {pnl.rejected}); "
            f"realised P&L {pnl.realized:.2f}, unrealised {pnl.unrealized:.2f}"
        )
        for p in positions_open(broker=label):
            self.stdout.write(f"  {p.ticker:6} {p.qty:>12} @ {p.avg_entry}  stop {p.stop_loss}")
