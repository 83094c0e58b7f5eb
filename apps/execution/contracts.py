"""Payloads of the execution stage (stream ``trades:executed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.core.contracts import Contract


@dataclass(frozen=True, slots=True)
class TradeEvent(Contract):
    """A change of an order's state at the broker that the learning stage cares about."""

    TYPE = "trades.executed"
    VERSION = 1

    trade_id: int
    client_order_id: str
    ticker: str
    side: str  # buy | sell
    qty: Decimal
    status: str  # accepted | partially_filled | filled | canceled | rejected | expired
    timestamp: datetime
    price: Decimal | None = None
    broker_order_id: str = ""
    strategy: str = ""
    signal_id: int | None = None
    position_closed: bool = False
    realized_pnl: Decimal | None = None
