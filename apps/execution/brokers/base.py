"""The broker port: a small abstract base every broker adapter implements.

Adapters (simulated, Alpaca) translate to and from these frozen values and raise the typed errors
(``BrokerError`` and its kinds, defined in ``apps.core.errors`` and re-exported here, plus the
order errors below), which tell the caller whether a retry can help. Simulation is an adapter,
not a flag.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from apps.core.errors import BrokerError, RateLimitedError, TransientBrokerError

__all__ = [
    "Account",
    "Broker",
    "BrokerError",
    "BrokerOrder",
    "BrokerPosition",
    "MarketClock",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "RateLimitedError",
    "TransientBrokerError",
]


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class OrderStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in {
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        }


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: str = "day"


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    broker_order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    type: OrderType
    status: OrderStatus
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    commission: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    symbol: str
    qty: Decimal  # signed
    avg_entry_price: Decimal
    market_value: Decimal | None = None
    unrealized_pl: Decimal | None = None
    current_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Account:
    equity: Decimal
    cash: Decimal
    buying_power: Decimal
    currency: str = "USD"
    trading_blocked: bool = False


@dataclass(frozen=True, slots=True)
class MarketClock:
    timestamp: datetime
    is_open: bool
    next_open: datetime | None = None
    next_close: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A trade-update event from the broker (fill, partial fill, cancel, reject...)."""

    event: str
    order: BrokerOrder
    at: datetime
    price: Decimal | None = None
    qty: Decimal | None = None  # this fill's quantity


class OrderRejectedError(BrokerError):
    """The broker refused the order (insufficient buying power, bad symbol...). Never retried."""


class OrderNotFoundError(BrokerError):
    """The broker has no order with that id (canceled and purged, or never placed)."""


class Broker(ABC):
    """Submit, cancel, replace, look up; positions, account and clock; stream of updates."""

    kind: str = ""

    @abstractmethod
    def submit_order(self, request: OrderRequest) -> BrokerOrder: ...

    @abstractmethod
    def cancel_order(self, broker_order_id: str) -> None: ...

    @abstractmethod
    def replace_order(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder: ...

    @abstractmethod
    def get_order(self, broker_order_id: str) -> BrokerOrder: ...

    @abstractmethod
    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None: ...

    @abstractmethod
    def open_orders(self) -> list[BrokerOrder]: ...

    @abstractmethod
    def positions(self) -> list[BrokerPosition]: ...

    @abstractmethod
    def account(self) -> Account: ...

    @abstractmethod
    def clock(self) -> MarketClock: ...

    def cancel_all(self) -> None:
        for order in self.open_orders():
            self.cancel_order(order.broker_order_id)

    def subscribe_updates(self, callback: Callable[[OrderUpdate], None]) -> None:
        """Deliver order updates to ``callback`` (adapters with a push stream override this)."""
        raise NotImplementedError(f"{type(self).__name__} has no push stream; poll get_order()")
