"""Manual overrides from the dashboard: close a position now.

The caller supplies the client order id (the API derives it from the request's Idempotency-Key),
so a repeated request finds the same order instead of sending a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apps.execution.brokers.base import BrokerError, OrderType
from apps.execution.models import Position, Trade
from apps.execution.services.context import ExecutionContext
from apps.execution.services.orders import OPEN_STATUSES, OrderSpec, order_submit
from apps.execution.services.stops import stop_cancel

log = logging.getLogger(__name__)


class NothingToClose(Exception):
    """No open position in that ticker."""


class CloseBlocked(Exception):
    """The position's protective stop could not be canceled (it may be filling): not closed."""


@dataclass(frozen=True)
class CloseResult:
    trade: Trade
    sent: bool  # False: the order existed already (same client order id)


def position_close(ctx: ExecutionContext, *, ticker: str, client_order_id: str) -> CloseResult:
    """Cancel the position's resting stops, then send one market order for its whole size."""
    existing = Trade.objects.filter(client_order_id=client_order_id).first()
    if existing is not None and existing.status != Trade.Status.NEW:
        return CloseResult(trade=existing, sent=False)
    position = Position.objects.filter(broker=ctx.label, ticker=ticker).exclude(qty=0).first()
    if position is None:
        raise NothingToClose(ticker)
    for stop in Trade.objects.filter(
        broker=ctx.label, ticker=ticker, purpose=Trade.Purpose.STOP_LOSS, status__in=OPEN_STATUSES
    ):
        try:
            canceled = stop_cancel(ctx, trade=stop)
        except BrokerError as exc:
            raise CloseBlocked(f"stop {stop.client_order_id}: {exc}") from exc
        if not canceled and stop.broker_order_id:
            raise CloseBlocked(f"stop {stop.client_order_id} could not be canceled")
    position.refresh_from_db()
    if position.qty == 0:
        raise NothingToClose(ticker)
    spec = OrderSpec(
        ticker=ticker,
        side=Trade.Side.SELL if position.qty > 0 else Trade.Side.BUY,
        qty=abs(position.qty),
        purpose=Trade.Purpose.EXIT,
        order_type=OrderType.MARKET,
    )
    trade = order_submit(
        ctx, spec=spec, client_order_id=client_order_id, decided_at=ctx.clock(), strategy="manual"
    )
    log.warning("manual close of %s: %s %s (%s)", ticker, spec.side, spec.qty, trade.status)
    return CloseResult(trade=trade, sent=True)
