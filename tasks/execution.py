"""Execution tasks (queue ``execution``): reconciliation, order sync, simulated-broker ticks."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from apps.bus.queues import Queue
from apps.execution.services import context_live, orders_sync, trades_send_pending
from apps.execution.services import reconcile as reconcile_service
from apps.execution.services.orders import market_tick as tick
from apps.market.selectors import market_now

log = logging.getLogger(__name__)


@shared_task(
    name="execution.reconcile", queue=Queue.EXECUTION.value, acks_late=True, ignore_result=True
)
def reconcile() -> dict[str, Any]:
    """Local orders/positions vs the broker's; HALT while they disagree (beat and start-up)."""
    report = reconcile_service(context_live())
    return {"mismatches": report.mismatches, "summary": report.summary()}


@shared_task(
    name="execution.sync_orders", queue=Queue.EXECUTION.value, acks_late=True, ignore_result=True
)
def sync_orders() -> int:
    """Send claims a failed worker left unsent; poll the broker for every open order and apply
    what changed (the state machine's driver for brokers without a push stream)."""
    ctx = context_live()
    trades_send_pending(ctx)
    return orders_sync(ctx)


@shared_task(
    name="execution.market_tick", queue=Queue.EXECUTION.value, acks_late=True, ignore_result=True
)
def market_tick(symbols: list[str], at: str | None = None) -> int:
    """Feed the newest stored bar of each symbol to the simulated broker, then sync orders."""
    if settings.BROKER_KIND != "simulated":
        return 0

    when = datetime.fromisoformat(at) if at else market_now()
    return tick(ctx=context_live(), symbols=list(symbols), at=when)


@worker_ready.connect
def _reconcile_at_start(sender: Any = None, **kwargs: Any) -> None:
    """An execution worker reconciles with the broker before it handles anything else."""
    try:
        queues = {q.name for q in sender.app.amqp.queues.consume_from.values()}
    except AttributeError:
        return
    if Queue.EXECUTION.value in queues:
        log.info("execution worker ready: queueing start-up reconciliation")
        reconcile.apply_async(queue=Queue.EXECUTION.value)
