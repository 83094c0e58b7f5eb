"""Translation between alpaca-py's models/errors and the broker port's values/typed errors."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.trading import models as am

from apps.core import alpaca
from apps.execution.brokers.base import (
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    OrderNotFoundError,
    OrderRejectedError,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)

log = logging.getLogger(__name__)

# Alpaca's statuses -> the port's. "new" means accepted by Alpaca and routed. A replaced order is
# final (superseded: the replacement has its own id); pending_* keep the order open.
_STATUS: dict[str, OrderStatus] = {
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "pending_new": OrderStatus.ACCEPTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED,
    "held": OrderStatus.ACCEPTED,
    "stopped": OrderStatus.ACCEPTED,
    "pending_review": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "replaced": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "done_for_day": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.REJECTED,
}
_OPEN_WHILE_PENDING = {"pending_cancel", "pending_replace", "calculated"}


class DuplicateClientOrderIdError(OrderRejectedError):
    """A different order already uses this client_order_id."""


def _dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def alpaca_price(value: Decimal | None) -> float | None:
    """Alpaca accepts 2 decimals at or above $1, 4 below."""
    if value is None:
        return None
    step = Decimal("0.01") if value >= 1 else Decimal("0.0001")
    return float(value.quantize(step, rounding=ROUND_HALF_UP))


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def order_from_alpaca(o: am.Order) -> BrokerOrder:
    """Map alpaca-py's ``Order`` to the port's frozen ``BrokerOrder``."""
    raw = _enum_value(o.status)
    filled = _dec(o.filled_qty) or Decimal(0)
    qty = _dec(o.qty) or Decimal(0)
    if raw in _OPEN_WHILE_PENDING:
        status = (
            OrderStatus.FILLED
            if raw == "calculated" and filled >= qty
            else OrderStatus.PARTIALLY_FILLED
            if filled > 0
            else OrderStatus.ACCEPTED
        )
    else:
        status = _STATUS.get(raw, OrderStatus.ACCEPTED)
    return BrokerOrder(
        broker_order_id=str(o.id),
        client_order_id=o.client_order_id,
        symbol=o.symbol or "",
        side=OrderSide(_enum_value(o.side)),
        qty=qty,
        type=OrderType(_enum_value(o.type or o.order_type)),
        status=status,
        filled_qty=filled,
        filled_avg_price=_dec(o.filled_avg_price),
        limit_price=_dec(o.limit_price),
        stop_price=_dec(o.stop_price),
        submitted_at=o.submitted_at,
        updated_at=o.updated_at,
    )


def position_from_alpaca(p: am.Position) -> BrokerPosition:
    qty = Decimal(str(p.qty))
    if _enum_value(p.side) == "short" and qty > 0:  # Alpaca signs short qty; be sure of it
        qty = -qty
    return BrokerPosition(
        symbol=p.symbol,
        qty=qty,
        avg_entry_price=Decimal(str(p.avg_entry_price)),
        market_value=_dec(p.market_value),
        unrealized_pl=_dec(p.unrealized_pl),
        current_price=_dec(p.current_price),
    )


def update_from_alpaca(u: am.TradeUpdate) -> OrderUpdate:
    return OrderUpdate(
        event=_enum_value(u.event),
        order=order_from_alpaca(u.order),
        at=u.timestamp,
        price=_dec(u.price),
        qty=_dec(u.qty),
    )


def translate_error(exc: Exception) -> BrokerError:
    """alpaca-py / requests exceptions -> the port's typed errors (order errors here, the rest in
    :func:`apps.core.alpaca.translate_error`, shared with the market-data source)."""
    if isinstance(exc, APIError) and (exc.status_code or 0) in (403, 404, 422):
        status = exc.status_code
        message = alpaca.api_error_message(exc)
        if status == 404:
            return OrderNotFoundError(message)
        if "client_order_id must be unique" in message:
            return DuplicateClientOrderIdError(message)
        return OrderRejectedError(f"alpaca {status}: {message}")
    return alpaca.translate_error(exc)
