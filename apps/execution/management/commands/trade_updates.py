"""``manage.py trade_updates``: apply the broker's pushed order updates as they happen.

For brokers with a push stream (Alpaca's ``trade_updates`` WebSocket). Without one (the simulated
broker) it says so and exits: ``execution.sync_orders`` polls every 15 s either way.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from apps.execution.brokers.base import OrderUpdate
from apps.execution.services import context_live, order_update_apply

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Stream the broker's order updates into the order state machine (Alpaca)."

    def handle(self, *args: Any, **opts: Any) -> None:
        ctx = context_live()
        run = getattr(ctx.broker, "run_updates", None)
        if run is None:
            self.stdout.write(
                f"broker {ctx.label} has no push stream; open orders are polled by "
                "execution.sync_orders"
            )
            return

        def on_update(update: OrderUpdate) -> None:
            close_old_connections()  # a long-lived process: never reuse a dead connection
            try:
                order_update_apply(ctx, update=update)
            except Exception:  # the stream must survive one bad update; polling catches up
                log.exception("trade update %s could not be applied", update.event)

        self.stdout.write(f"streaming {ctx.label} order updates (Ctrl-C to stop)")
        run(on_update)
