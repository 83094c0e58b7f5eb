"""Reconciliation: local orders and positions against the broker's (the broker is the truth).

1. every open local order is synced from the broker (by id, or by client id when a crash left it
   unrecorded); a NEW row whose send was attempted but the broker never saw, older than a grace
   period, is marked rejected;
2. open orders at the broker that we do not know are adopted (``purpose=external``);
3. positions are compared; local rows are set to the broker's quantity and average price;
4. any disagreement HALTS trading (exits only) with a ``reconcile:`` reason; the halt is lifted by
   the next run that finds everything in agreement;
5. every open position gets its protective stop (a crash may have lost one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from apps.execution.brokers.base import BrokerError, BrokerOrder
from apps.execution.metrics import RECONCILE_LAST_MISMATCHES, RECONCILE_MISMATCHES
from apps.execution.models import Position, Trade, TradingControl
from apps.execution.services.context import ExecutionContext
from apps.execution.services.control import trading_control, trading_halt
from apps.execution.services.orders import (
    CLIENT_ID_PREFIX,
    OPEN_STATUSES,
    client_order_id_for,
    order_apply,
    stop_client_order_id,
)
from apps.execution.services.stops import stops_ensure
from apps.strategies.models import Signal

log = logging.getLogger(__name__)

RECONCILE_PREFIX = "reconcile:"
NEW_GRACE = timedelta(minutes=2)


@dataclass
class ReconcileReport:
    synced: int = 0
    recovered: list[str] = field(default_factory=list)  # NEW rows found at the broker
    lost: list[str] = field(default_factory=list)  # NEW rows the broker never got
    adopted: list[str] = field(default_factory=list)  # broker orders we did not know
    positions_fixed: list[str] = field(default_factory=list)
    stops_placed: list[str] = field(default_factory=list)
    halted: bool = False
    resumed: bool = False

    @property
    def mismatches(self) -> int:
        return len(self.recovered) + len(self.lost) + len(self.adopted) + len(self.positions_fixed)

    def summary(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (
                ("recovered", self.recovered),
                ("lost", self.lost),
                ("adopted", self.adopted),
                ("positions", self.positions_fixed),
            )
            if v
        ]
        return ", ".join(parts) or "in agreement"


def reconcile(ctx: ExecutionContext) -> ReconcileReport:
    report = ReconcileReport()
    try:
        _orders(ctx, report)
        _adopt(ctx, report)
        _positions(ctx, report)
    except BrokerError as exc:
        log.error("reconcile: broker unreachable (%s): trading halted", exc)
        trading_halt(reason=f"{RECONCILE_PREFIX} broker unreachable: {exc}", pk=ctx.control_pk)
        RECONCILE_MISMATCHES.labels(ctx.label, "broker_unreachable").inc()
        report.halted = True
        return report
    RECONCILE_LAST_MISMATCHES.labels(ctx.label).set(report.mismatches)
    control = trading_control(pk=ctx.control_pk)
    if report.mismatches:
        log.warning(
            "reconcile (%s): %d mismatch(es): %s", ctx.label, report.mismatches, report.summary()
        )
        if control.state == TradingControl.State.ACTIVE:
            trading_halt(reason=f"{RECONCILE_PREFIX} {report.summary()}"[:300], pk=ctx.control_pk)
            report.halted = True
    elif control.state == TradingControl.State.HALTED and control.reason.startswith(
        RECONCILE_PREFIX
    ):
        control.state, control.reason = TradingControl.State.ACTIVE, "reconcile: in agreement"
        control.save(update_fields=["state", "reason", "changed_at"])
        report.resumed = True
        log.info("reconcile (%s): in agreement again, halt lifted", ctx.label)
    for pos in Position.objects.filter(broker=ctx.label).exclude(qty=0):
        before = pos.stop_order_id
        try:
            stop = stops_ensure(ctx, ticker=pos.ticker)
        except BrokerError as exc:
            log.warning("reconcile: stop for %s not placed: %s", pos.ticker, exc)
            continue
        if stop is not None and stop.pk != before:
            report.stops_placed.append(pos.ticker)
    return report


def _orders(ctx: ExecutionContext, report: ReconcileReport) -> None:
    now = ctx.clock()
    for trade in list(
        Trade.objects.filter(broker=ctx.label, status__in=OPEN_STATUSES).order_by("id")
    ):
        if trade.broker_order_id:
            order = ctx.broker.get_order(trade.broker_order_id)
        else:
            found = ctx.broker.get_order_by_client_id(trade.client_order_id)
            if found is None:
                # Only a claim whose send was attempted can be lost; one never attempted (market
                # closed, broker down) is still pending and sent by execution.sync_orders.
                if trade.submitted_at and now - trade.submitted_at > NEW_GRACE:
                    with transaction.atomic():
                        trade.status = Trade.Status.REJECTED
                        trade.reject_reason = "never reached the broker (reconciliation)"
                        trade.save(update_fields=["status", "reject_reason", "updated_at"])
                    report.lost.append(trade.client_order_id)
                    RECONCILE_MISMATCHES.labels(ctx.label, "order_lost").inc()
                continue
            order = found
            report.recovered.append(trade.client_order_id)
            RECONCILE_MISMATCHES.labels(ctx.label, "order_unrecorded").inc()
        report.synced += int(order_apply(ctx, trade=trade, order=order, event="reconcile"))


def _adopt(ctx: ExecutionContext, report: ReconcileReport) -> None:
    known = set(Trade.objects.filter(broker=ctx.label).values_list("client_order_id", flat=True))
    for order in ctx.broker.open_orders():
        if order.client_order_id in known:
            continue
        _adopt_one(ctx, order)
        report.adopted.append(order.client_order_id or order.broker_order_id)
        RECONCILE_MISMATCHES.labels(ctx.label, "order_external").inc()


def _ours(ctx: ExecutionContext, order: BrokerOrder) -> dict[str, object]:
    """Recognise an order *we* sent whose row was lost (a crash before the commit).

    Our client ids are hashes of (signal, ticker, time, purpose): recompute them for the recent
    signals of the symbol (and the stops of its recent entries) and look for a match.
    """
    cid = order.client_order_id
    if not cid.startswith(CLIENT_ID_PREFIX):
        return {}

    recent = Signal.objects.filter(account=ctx.signals_account, ticker=order.symbol).order_by(
        "-decided_at"
    )[:200]
    for sig in recent:
        for purpose in (Trade.Purpose.ENTRY, Trade.Purpose.EXIT):
            if (
                client_order_id_for(
                    signal_id=sig.pk, ticker=sig.ticker, decided_at=sig.decided_at, purpose=purpose
                )
                == cid
            ):
                dominant = max(
                    sig.strategy_sources or [{}],
                    key=lambda c: abs(float(c.get("score", 0)) * float(c.get("weight", 0))),
                )
                return {
                    "purpose": purpose,
                    "signal_id": sig.pk,
                    "timestamp": sig.decided_at,
                    "strategy": str(dominant.get("strategy", "")),
                }
    entries = Trade.objects.filter(
        broker=ctx.label, ticker=order.symbol, purpose=Trade.Purpose.ENTRY
    ).order_by("-id")[:50]
    for entry in entries:
        for gen in range(5):
            if (
                stop_client_order_id(entry_client_order_id=entry.client_order_id, generation=gen)
                == cid
            ):
                return {
                    "purpose": Trade.Purpose.STOP_LOSS,
                    "signal_id": entry.signal_id,
                    "strategy": entry.strategy,
                }
    return {}


def _adopt_one(ctx: ExecutionContext, order: BrokerOrder) -> Trade:
    ours = _ours(ctx, order)
    with transaction.atomic():
        trade, _ = Trade.objects.get_or_create(
            client_order_id=order.client_order_id or f"ext-{order.broker_order_id}"[:48],
            defaults={
                "ticker": order.symbol,
                "side": str(order.side),
                "qty": order.qty,
                "order_type": str(order.type),
                "limit_price": order.limit_price,
                "stop_price": order.stop_price,
                "purpose": Trade.Purpose.EXTERNAL,
                "timestamp": order.submitted_at or ctx.clock(),
                "broker": ctx.label,
                "broker_order_id": order.broker_order_id,
                **ours,
            },
        )
        # Its fills, if any, are already in the broker's position; they are taken over in step 3
        # (which also records any later fill of this order through the state machine).
        trade.status = str(order.status) if str(order.status) != "new" else Trade.Status.ACCEPTED
        trade.filled_qty = order.filled_qty
        trade.price = order.filled_avg_price
        trade.submitted_at = order.submitted_at
        trade.save()
    log.warning(
        "reconcile: adopted external order %s (%s %s %s)",
        order.broker_order_id,
        order.side,
        order.qty,
        order.symbol,
    )
    return trade


def _positions(ctx: ExecutionContext, report: ReconcileReport) -> None:
    broker_pos = {p.symbol: p for p in ctx.broker.positions() if p.qty != 0}
    local = {p.ticker: p for p in Position.objects.filter(broker=ctx.label)}
    for ticker in sorted(set(broker_pos) | {t for t, p in local.items() if p.qty != 0}):
        bp = broker_pos.get(ticker)
        lp = local.get(ticker)
        want_qty = bp.qty if bp else Decimal(0)
        have_qty = lp.qty if lp else Decimal(0)
        if want_qty == have_qty:
            continue
        # An order may have filled since step 1: apply its fills first, then compare again.
        for trade in Trade.objects.filter(
            broker=ctx.label, ticker=ticker, status__in=OPEN_STATUSES
        ).exclude(broker_order_id=""):
            order_apply(
                ctx,
                trade=trade,
                order=ctx.broker.get_order(trade.broker_order_id),
                event="reconcile",
            )
        lp = Position.objects.filter(broker=ctx.label, ticker=ticker).first()
        have_qty = lp.qty if lp else Decimal(0)
        bp = next((p for p in ctx.broker.positions() if p.symbol == ticker and p.qty != 0), None)
        want_qty = bp.qty if bp else Decimal(0)
        if want_qty == have_qty:
            continue
        report.positions_fixed.append(f"{ticker} {have_qty}->{want_qty}")
        RECONCILE_MISMATCHES.labels(ctx.label, "position").inc()
        with transaction.atomic():
            if lp is None:
                lp = Position(
                    broker=ctx.label, ticker=ticker, opened_at=ctx.clock(), avg_entry=Decimal(0)
                )
            lp.qty = want_qty
            if bp is not None:
                lp.avg_entry = bp.avg_entry_price
                lp.last_price = bp.current_price
                lp.unrealized_pnl = (bp.unrealized_pl or Decimal(0)).quantize(Decimal("0.0001"))
            else:
                lp.unrealized_pnl = Decimal(0)
            lp.save()
