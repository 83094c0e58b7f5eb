"""Protective stops: every open position has exactly one resting stop order at the broker."""

from __future__ import annotations

import logging
from decimal import Decimal

from apps.execution.brokers.base import BrokerError, OrderType
from apps.execution.models import Position, Trade
from apps.execution.risk import stop_level
from apps.execution.services.context import ExecutionContext
from apps.execution.services.orders import (
    OPEN_STATUSES,
    OrderSpec,
    after_fill,
    order_apply,
    order_submit,
    stop_client_order_id,
)
from apps.execution.services.positions import FillResult

log = logging.getLogger(__name__)


@after_fill
def stop_after_fill(ctx: ExecutionContext, *, trade: Trade, fill: FillResult) -> None:
    """After a fill: protect a new/changed position, or clear the stop of a closed one."""
    try:
        stops_ensure(ctx, ticker=trade.ticker)
    except BrokerError as exc:  # the periodic reconciliation places it later
        log.warning("stop for %s not placed now (%s); reconciliation will retry", trade.ticker, exc)


def _open_stops(ctx: ExecutionContext, ticker: str) -> list[Trade]:
    return list(
        Trade.objects.filter(
            broker=ctx.label,
            ticker=ticker,
            purpose=Trade.Purpose.STOP_LOSS,
            status__in=OPEN_STATUSES,
        ).order_by("id")
    )


def stop_cancel(ctx: ExecutionContext, *, trade: Trade) -> bool:
    """Cancel a resting stop. False when it can no longer be canceled (it filled meanwhile)."""
    if trade.broker_order_id:
        try:
            ctx.broker.cancel_order(trade.broker_order_id)
        except BrokerError as exc:
            log.info("stop %s not canceled: %s", trade.client_order_id, exc)
            order_apply(
                ctx, trade=trade, order=ctx.broker.get_order(trade.broker_order_id), event="sync"
            )
            trade.refresh_from_db()
            return trade.status == Trade.Status.CANCELED
        order_apply(
            ctx, trade=trade, order=ctx.broker.get_order(trade.broker_order_id), event="cancel"
        )
        return True
    return False


def stops_ensure(ctx: ExecutionContext, *, ticker: str) -> Trade | None:
    """Make the broker hold exactly one stop for ``ticker``'s position, sized to it."""
    pos = Position.objects.filter(broker=ctx.label, ticker=ticker).first()
    stops = _open_stops(ctx, ticker)
    if pos is None or pos.qty == 0:
        for s in stops:
            stop_cancel(ctx, trade=s)
        if pos is not None and pos.stop_order_id is not None:
            Position.objects.filter(pk=pos.pk).update(stop_order=None)
        return None
    want = abs(pos.qty)
    side = Trade.Side.SELL if pos.qty > 0 else Trade.Side.BUY
    if (
        not stops
        and Trade.objects.filter(
            broker=ctx.label, ticker=ticker, purpose=Trade.Purpose.EXIT, status__in=OPEN_STATUSES
        ).exists()
    ):
        # an exit is working: it canceled the stop on its way out, and a new stop next to it
        # could sell the position twice (the exit itself closes it; if it expires, the next
        # reconciliation protects the position again)
        return None
    for extra in stops[1:]:
        stop_cancel(ctx, trade=extra)
    if stops:
        stop = stops[0]
        if stop.side == side and stop.qty - stop.filled_qty == want:
            return stop
        stop_cancel(ctx, trade=stop)  # wrong size or side: replace with a fresh one
    entry = pos.entry_trade
    cfg = ctx.risk
    planned = pos.stop_loss or (entry.stop_price if entry else None)
    if planned is None:  # the shared stop-level rule at the fixed distance
        entry_px = float(pos.avg_entry)
        level = stop_level(1 if pos.qty > 0 else -1, entry_px, entry_px * cfg.stop_pct)
        planned = Decimal(repr(level))
    planned = planned.quantize(Decimal("0.01"))
    trailing = cfg.stop_order_type == "trailing_stop"
    trail = None
    if trailing:
        trail = (entry.trail_percent if entry and entry.trail_percent else None) or Decimal(
            str(round(cfg.stop_pct * 100, 4))
        )
    base_id = entry.client_order_id if entry else f"pos-{pos.pk}-{pos.opened_at.isoformat()}"
    generation = 0
    while (
        Trade.objects.filter(
            client_order_id=stop_client_order_id(
                entry_client_order_id=base_id, generation=generation
            )
        )
        .exclude(status__in=OPEN_STATUSES)
        .exists()
    ):
        generation += 1
    trade = order_submit(
        ctx,
        spec=OrderSpec(
            ticker=ticker,
            side=side,
            qty=want,
            purpose=Trade.Purpose.STOP_LOSS,
            order_type=OrderType.TRAILING_STOP if trailing else OrderType.STOP,
            stop_price=None if trailing else planned,
            trail_percent=trail,
            time_in_force="gtc",
        ),
        client_order_id=stop_client_order_id(entry_client_order_id=base_id, generation=generation),
        decided_at=ctx.clock(),
        signal_id=entry.signal_id if entry else None,
        strategy=entry.strategy if entry else "",
    )
    Position.objects.filter(pk=pos.pk).update(stop_order=trade, stop_loss=planned)
    return trade
