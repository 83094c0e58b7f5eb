"""Orders: deterministic client ids, idempotent submission, and the order state machine.

Submission is safe to repeat (a redelivered message, a retried task, a worker killed between the
broker's answer and our commit): the client order id is derived from the signal, the broker is
asked for that id before anything is sent, and ``trades.client_order_id`` is unique.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from opentelemetry import propagate, trace

from apps.bus.names import Stream
from apps.bus.outbox import publish
from apps.core.redis_client import redis_client
from apps.execution.brokers.base import (
    BrokerOrder,
    OrderRejectedError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)
from apps.execution.brokers.simulated import SimulatedBroker
from apps.execution.contracts import TradeEvent
from apps.execution.metrics import (
    FILL_LATENCY,
    ORDER_REJECTIONS,
    ORDER_UPDATES,
    ORDERS_DEDUPLICATED,
    ORDERS_SUBMITTED,
)
from apps.execution.models import Trade, TradeUpdate
from apps.execution.services.context import ExecutionContext
from apps.execution.services.positions import FillResult, position_apply_fill
from apps.market.clock import market_clock
from apps.market.models import MarketBar

tracer = trace.get_tracer("tradebot.execution")


def _trace_now() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


log = logging.getLogger(__name__)

OPEN_STATUSES = (Trade.Status.NEW, Trade.Status.ACCEPTED, Trade.Status.PARTIALLY_FILLED)
FINAL_STATUSES = (
    Trade.Status.FILLED,
    Trade.Status.CANCELED,
    Trade.Status.REJECTED,
    Trade.Status.EXPIRED,
)
CLIENT_ID_PREFIX = "tb-"

# Which transitions the state machine accepts; anything else is an out-of-order or late update.
_ALLOWED: dict[str, set[str]] = {
    Trade.Status.NEW: {s.value for s in Trade.Status} - {Trade.Status.NEW},
    Trade.Status.ACCEPTED: {
        Trade.Status.PARTIALLY_FILLED,
        Trade.Status.FILLED,
        Trade.Status.CANCELED,
        Trade.Status.REJECTED,
        Trade.Status.EXPIRED,
    },
    Trade.Status.PARTIALLY_FILLED: {
        Trade.Status.PARTIALLY_FILLED,
        Trade.Status.FILLED,
        Trade.Status.CANCELED,
        Trade.Status.EXPIRED,
    },
}


class AfterFill(Protocol):
    def __call__(self, ctx: ExecutionContext, *, trade: Trade, fill: FillResult) -> None: ...


# Follow-ups run after a fill commits. ``stops.py`` installs the protective-stop follow-up when it
# is imported (``apps.execution.services`` imports it before anything can apply a fill), so that
# orders never import stops, which place their orders through this module.
_AFTER_FILL: list[AfterFill] = []


def after_fill(fn: AfterFill) -> AfterFill:
    """Run ``fn(ctx, trade=..., fill=...)`` after every committed fill (registration is idempotent)."""
    if fn not in _AFTER_FILL:
        _AFTER_FILL.append(fn)
    return fn


def client_order_id_for(
    *, signal_id: int | None, ticker: str, decided_at: datetime, purpose: str
) -> str:
    """``tb-`` + 20 hex chars of sha1(signal id / ticker / decision time / purpose)."""
    key = f"{signal_id}/{ticker}/{decided_at.isoformat()}/{purpose}"
    return CLIENT_ID_PREFIX + hashlib.sha1(key.encode()).hexdigest()[:20]


def stop_client_order_id(*, entry_client_order_id: str, generation: int) -> str:
    """The protective stop of an entry; a new generation after the stop was canceled (kill switch)."""
    key = f"{entry_client_order_id}/stop/{generation}"
    return CLIENT_ID_PREFIX + hashlib.sha1(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class OrderSpec:
    ticker: str
    side: str
    qty: Decimal
    purpose: str
    order_type: str = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: str = "day"
    planned_stop: Decimal | None = None  # entries: the protective stop to place once filled


def order_claim(
    ctx: ExecutionContext,
    *,
    spec: OrderSpec,
    client_order_id: str,
    decided_at: datetime,
    signal_id: int | None = None,
    strategy: str = "",
) -> tuple[Trade, bool]:
    """Record the intent to place an order (status NEW) before anything reaches the broker.

    Committed first, so an order can never be at the broker without a local row: a crash after
    the broker's answer leaves a NEW row that reconciliation resolves by client id. Returns the
    row and whether it still has to be sent (False when an earlier attempt got past NEW).
    """
    with transaction.atomic():
        trade, created = Trade.objects.get_or_create(
            client_order_id=client_order_id,
            defaults={
                "ticker": spec.ticker,
                "side": spec.side,
                "qty": spec.qty,
                "order_type": spec.order_type,
                "limit_price": spec.limit_price,
                # entries (market) keep their *planned* protective stop here
                "stop_price": spec.planned_stop
                if spec.purpose == Trade.Purpose.ENTRY
                else spec.stop_price,
                "trail_percent": spec.trail_percent,
                "purpose": spec.purpose,
                "timestamp": decided_at,
                "strategy": strategy,
                "signal_id": signal_id,
                "broker": ctx.label,
            },
        )
    if not created and trade.status != Trade.Status.NEW:
        ORDERS_DEDUPLICATED.labels(ctx.label).inc()
        log.info(
            "order %s already at the broker (%s): not sent again", client_order_id, trade.status
        )
        return trade, False
    return trade, True


def order_request_for(trade: Trade) -> OrderRequest:
    """The broker request a claimed trade row stands for."""
    kind = OrderType(trade.order_type)
    return OrderRequest(
        client_order_id=trade.client_order_id,
        symbol=trade.ticker,
        side=OrderSide(trade.side),
        qty=trade.qty,
        type=kind,
        limit_price=trade.limit_price if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=trade.stop_price if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
        trail_percent=trade.trail_percent if kind == OrderType.TRAILING_STOP else None,
        time_in_force="gtc" if trade.purpose == Trade.Purpose.STOP_LOSS else "day",
    )


def order_send(ctx: ExecutionContext, *, trade: Trade) -> Trade:
    """Send a claimed (NEW) order exactly once: ask the broker for its client id first.

    An order found at the broker (an earlier attempt died after sending) is recorded, not re-sent;
    otherwise it is submitted and the answer goes through the state machine. Must run outside the
    transaction that claimed it (after its commit).
    """
    trade.refresh_from_db()
    if trade.status != Trade.Status.NEW:
        return trade
    existing = ctx.broker.get_order_by_client_id(trade.client_order_id)
    if existing is not None:
        ORDERS_DEDUPLICATED.labels(ctx.label).inc()
        log.info(
            "order %s found at the broker (%s): recorded, not sent again",
            trade.client_order_id,
            existing.broker_order_id,
        )
        order_apply(ctx, trade=trade, order=existing, event="recovered")
        trade.refresh_from_db()
        return trade
    # Stamped before the attempt: a NEW row with a send time is one the broker may have seen.
    Trade.objects.filter(pk=trade.pk, submitted_at__isnull=True).update(submitted_at=ctx.clock())
    try:
        order = ctx.broker.submit_order(order_request_for(trade))
    except OrderRejectedError as exc:
        # A concurrent sender may have won the race: the broker refuses a duplicate client id.
        raced = ctx.broker.get_order_by_client_id(trade.client_order_id)
        if raced is not None:
            ORDERS_DEDUPLICATED.labels(ctx.label).inc()
            order_apply(ctx, trade=trade, order=raced, event="recovered")
            trade.refresh_from_db()
            return trade
        ORDER_REJECTIONS.labels(ctx.label).inc()
        log.warning("order %s rejected by %s: %s", trade.client_order_id, ctx.label, exc)
        _reject(ctx, trade, str(exc))
        trade.refresh_from_db()
        return trade
    ORDERS_SUBMITTED.labels(ctx.label, trade.side, trade.purpose).inc()
    _maybe_crash("after_submit", trade.client_order_id)
    order_apply(ctx, trade=trade, order=order, event="submitted")
    trade.refresh_from_db()
    return trade


def order_submit(
    ctx: ExecutionContext,
    *,
    spec: OrderSpec,
    client_order_id: str,
    decided_at: datetime,
    signal_id: int | None = None,
    strategy: str = "",
) -> Trade:
    """Claim and send in one go (when the caller holds no open transaction)."""
    trade, pending = order_claim(
        ctx,
        spec=spec,
        client_order_id=client_order_id,
        decided_at=decided_at,
        signal_id=signal_id,
        strategy=strategy,
    )
    return order_send(ctx, trade=trade) if pending else trade


def _maybe_crash(point: str, client_order_id: str) -> None:
    """Test hook (``EXECUTION_FAULT_INJECTION=after_submit``): die like a killed worker, once
    per Redis database (the restarted worker then runs normally)."""
    if point != settings.EXECUTION_FAULT_INJECTION:
        return
    if redis_client().set(f"execution:fault:{point}", b"1", nx=True, ex=3600):
        log.error("fault injection: exiting between submit and record of %s", client_order_id)
        os._exit(137)


def _reject(ctx: ExecutionContext, trade: Trade, reason: str) -> None:
    with transaction.atomic():
        trade.status = Trade.Status.REJECTED
        trade.reject_reason = reason
        trade.save(update_fields=["status", "reject_reason", "updated_at"])
        TradeUpdate.objects.get_or_create(
            dedupe_key=f"{trade.client_order_id}:rejected",
            defaults={
                "trade": trade,
                "event": "rejected",
                "status": Trade.Status.REJECTED,
                "at": market_clock().now(),
                "payload": {"reason": reason},
            },
        )
        ORDER_UPDATES.labels(ctx.label, Trade.Status.REJECTED).inc()
        _publish(ctx, trade, FillResult.none())


def order_apply(
    ctx: ExecutionContext,
    *,
    trade: Trade,
    order: BrokerOrder,
    event: str = "update",
    at: datetime | None = None,
) -> bool:
    """Apply the broker's view of an order to its trade: the order state machine.

    Each distinct (order, status, filled qty) is applied once (``TradeUpdate.dedupe_key``); fills
    move the position and realise P&L; a ``TradeEvent`` is published per change. Late or
    out-of-order updates (e.g. "accepted" after "filled") are recorded as ignored. Returns whether
    anything changed.

    A fill is traced as a span of the order's own trace (the one its article started), linked to
    whatever polled or pushed it; the ``TradeEvent`` it publishes carries that trace on.
    """
    if order.filled_qty > trade.filled_qty:
        with _fill_span(trade, order):
            return _order_apply(ctx, trade=trade, order=order, event=event, at=at)
    return _order_apply(ctx, trade=trade, order=order, event=event, at=at)


def _fill_span(trade: Trade, order: BrokerOrder) -> Any:
    submitted = (
        TradeUpdate.objects.filter(trade_id=trade.pk, payload__has_key="trace")
        .order_by("id")
        .values_list("payload", flat=True)
        .first()
    )
    current = trace.get_current_span().get_span_context()
    return tracer.start_as_current_span(
        "fill",
        context=propagate.extract(submitted["trace"]) if submitted else None,
        links=[trace.Link(current)] if submitted and current.is_valid else None,
        attributes={
            "tradebot.trade.id": trade.pk,
            "tradebot.ticker": trade.ticker,
            "tradebot.order.client_id": trade.client_order_id,
            "tradebot.fill.qty": str(order.filled_qty - trade.filled_qty),
        },
    )


@transaction.atomic
def _order_apply(
    ctx: ExecutionContext,
    *,
    trade: Trade,
    order: BrokerOrder,
    event: str,
    at: datetime | None,
) -> bool:
    trade = Trade.objects.select_for_update().get(pk=trade.pk)
    status = str(OrderStatus(order.status))
    if status == OrderStatus.NEW:
        status = Trade.Status.ACCEPTED  # the broker has it: that is what "accepted" means to us
    key = f"{order.broker_order_id}:{status}:{order.filled_qty}"
    when = at or order.updated_at or market_clock().now()
    if TradeUpdate.objects.filter(dedupe_key=key).exists():
        return False
    same = status == trade.status and order.filled_qty == trade.filled_qty
    if same or (
        status not in _ALLOWED.get(trade.status, set()) and order.filled_qty <= trade.filled_qty
    ):
        TradeUpdate.objects.create(
            trade=trade,
            event=f"{event}:ignored",
            status=status,
            filled_qty=order.filled_qty,
            price=order.filled_avg_price,
            at=when,
            dedupe_key=key,
            payload={"from": trade.status, "to": status},
        )
        if not trade.broker_order_id:
            trade.broker_order_id = order.broker_order_id
            trade.save(update_fields=["broker_order_id", "updated_at"])
        return False
    delta = order.filled_qty - trade.filled_qty
    fill = FillResult.none()
    if delta > 0 and order.filled_avg_price is not None:
        prev_value = (trade.price or Decimal(0)) * trade.filled_qty
        delta_price = (order.filled_avg_price * order.filled_qty - prev_value) / delta
        delta_fee = max(order.commission - trade.commission, Decimal(0))
        signed = delta if trade.side == Trade.Side.BUY else -delta
        fill = position_apply_fill(
            ctx, trade=trade, signed_qty=signed, price=delta_price, commission=delta_fee, at=when
        )
        trade.price = order.filled_avg_price
        trade.filled_qty = order.filled_qty
        trade.commission = order.commission
        trade.pnl = (trade.pnl or Decimal(0)) + fill.pnl
    trade.status = status
    trade.broker_order_id = trade.broker_order_id or order.broker_order_id
    if trade.submitted_at is None:
        trade.submitted_at = order.submitted_at or when
    if status == Trade.Status.FILLED:
        trade.filled_at = when
        if trade.submitted_at is not None:
            FILL_LATENCY.labels(ctx.label).observe(
                max((when - trade.submitted_at).total_seconds(), 0.0)
            )
    trade.save()
    TradeUpdate.objects.create(
        trade=trade,
        event=event,
        status=status,
        filled_qty=order.filled_qty,
        price=order.filled_avg_price,
        at=when,
        dedupe_key=key,
        payload={
            "broker_order_id": order.broker_order_id,
            "fill_qty": str(delta),
            "commission": str(order.commission),
            # The submission keeps the order's trace context: its fills continue that trace.
            **({"trace": _trace_now()} if event in {"submitted", "recovered"} else {}),
        },
    )
    ORDER_UPDATES.labels(ctx.label, status).inc()
    if status == Trade.Status.REJECTED:
        ORDER_REJECTIONS.labels(ctx.label).inc()
    _publish(ctx, trade, fill)
    if delta > 0:
        for follow_up in _AFTER_FILL:
            transaction.on_commit(functools.partial(follow_up, ctx, trade=trade, fill=fill))
    return True


def _publish(ctx: ExecutionContext, trade: Trade, fill: FillResult) -> None:
    if not ctx.publish:
        return
    publish(
        Stream.TRADES_EXECUTED,
        TradeEvent(
            trade_id=trade.pk,
            client_order_id=trade.client_order_id,
            ticker=trade.ticker,
            side=trade.side,
            qty=trade.filled_qty if trade.filled_qty else trade.qty,
            status=trade.status,
            timestamp=trade.filled_at or trade.updated_at or market_clock().now(),
            price=trade.price,
            broker_order_id=trade.broker_order_id,
            strategy=fill.entry_strategy or trade.strategy,
            signal_id=fill.entry_signal_id if fill.closed else trade.signal_id,
            position_closed=fill.closed,
            realized_pnl=fill.round_trip_pnl if fill.closed else None,
        ),
    )


def orders_sync(ctx: ExecutionContext) -> int:
    """Poll the broker for every open local order and apply what changed. Returns changes."""
    changed = 0
    for trade in list(
        Trade.objects.filter(broker=ctx.label, status__in=OPEN_STATUSES).order_by("id")
    ):
        if trade.broker_order_id:
            order = ctx.broker.get_order(trade.broker_order_id)
        else:
            found = ctx.broker.get_order_by_client_id(trade.client_order_id)
            if found is None:
                continue  # not (yet) at the broker: reconciliation decides
            order = found
        changed += int(order_apply(ctx, trade=trade, order=order, event="sync"))
    return changed


def order_update_apply(ctx: ExecutionContext, *, update: OrderUpdate) -> bool:
    """A pushed broker update (e.g. Alpaca's trade_updates stream) through the state machine.

    Updates of orders we have no row for are left to reconciliation (which adopts them).
    Safe to combine with polling: each (order, status, filled qty) is applied once.
    """
    order = update.order
    trade = (
        Trade.objects.filter(client_order_id=order.client_order_id).first()
        if order.client_order_id
        else None
    ) or Trade.objects.filter(broker=ctx.label, broker_order_id=order.broker_order_id).first()
    if trade is None:
        log.info(
            "update %s for unknown order %s (%s): left to reconciliation",
            update.event,
            order.broker_order_id,
            order.client_order_id,
        )
        return False
    return order_apply(ctx, trade=trade, order=order, event=update.event, at=update.at)


def market_tick(*, ctx: ExecutionContext, symbols: list[str], at: datetime) -> int:
    """Show the simulated broker each symbol's newest stored bar at ``at``, then sync orders.

    This is how the simulated broker "sees the market" in the live pipeline (the replay or new
    stored bars). It ignores a bar it has applied already. Other brokers have their own market.
    """
    broker = ctx.broker
    if not isinstance(broker, SimulatedBroker):
        return 0
    for symbol in symbols:
        bar = (
            MarketBar.objects.filter(
                symbol=symbol, timeframe=settings.SIGNALS_TIMEFRAME, time__lte=at
            )
            .order_by("-time")
            .first()
        )
        if bar is not None:
            broker.on_bar(
                symbol,
                time=bar.time,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume,
            )
    return orders_sync(ctx)
