"""The simulated broker's state and where it is kept (split from the broker itself).

:class:`SimState` holds cash, positions, orders and the last prices; a :class:`StateStore` keeps it:
:class:`MemoryStore` (no DB, no Redis: backtests and unit tests) or :class:`RedisStore` (a JSON
document under one key, guarded by a Redis lock, so the state survives restarts and is shared by
every worker). The matching rules live in :mod:`apps.execution.matching`, the broker in
:mod:`apps.execution.brokers.simulated`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from apps.execution.brokers.base import (
    BrokerError,
    BrokerOrder,
    OrderSide,
    OrderStatus,
    OrderType,
)
from apps.execution.ledger import book_amount
from apps.execution.matching import trailing_level


def _q(x: Decimal) -> Decimal:
    return book_amount(x)


# ---- state ----------------------------------------------------------------------------------


@dataclass
class SimOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    type: str
    status: str
    time_in_force: str
    submitted_at: datetime
    updated_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    watermark: Decimal | None = None  # trailing stops: best price seen since submission
    triggered: bool = False  # stop-limit: the stop has triggered
    bars_seen: int = 0
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    commission: Decimal = Decimal(0)

    def view(self) -> BrokerOrder:
        return BrokerOrder(
            broker_order_id=self.id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=OrderSide(self.side),
            qty=self.qty,
            type=OrderType(self.type),
            status=OrderStatus(self.status),
            filled_qty=self.filled_qty,
            filled_avg_price=self.filled_avg_price,
            limit_price=self.limit_price,
            stop_price=self.current_stop(),
            submitted_at=self.submitted_at,
            updated_at=self.updated_at,
            commission=self.commission,
        )

    def current_stop(self) -> Decimal | None:
        if self.type == OrderType.TRAILING_STOP and self.watermark is not None:
            level = trailing_level(
                self.side == OrderSide.BUY, self.watermark, self.trail_percent or Decimal(0)
            )
            return _q(level)
        return self.stop_price


@dataclass
class SimPosition:
    qty: Decimal
    avg_entry: Decimal


@dataclass
class SimState:
    cash: Decimal
    initial_cash: Decimal
    positions: dict[str, SimPosition] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    by_client: dict[str, str] = field(default_factory=dict)
    last_price: dict[str, Decimal] = field(default_factory=dict)
    last_bar: dict[str, datetime] = field(default_factory=dict)  # newest bar applied per symbol
    now: datetime | None = None
    seq: int = 0

    # JSON round trip for the Redis store: Decimals as strings, datetimes as ISO.
    def dumps(self) -> str:
        def enc(o: Any) -> Any:
            if isinstance(o, Decimal):
                return {"$d": str(o)}
            if isinstance(o, datetime):
                return {"$t": o.isoformat()}
            raise TypeError(type(o))

        return json.dumps(asdict(self), default=enc, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes) -> SimState:
        def dec(o: dict[str, Any]) -> Any:
            if "$d" in o:
                return Decimal(o["$d"])
            if "$t" in o:
                return datetime.fromisoformat(o["$t"])
            return o

        raw = json.loads(text, object_hook=dec)
        return SimState(
            cash=raw["cash"],
            initial_cash=raw["initial_cash"],
            positions={k: SimPosition(**v) for k, v in raw["positions"].items()},
            orders={k: SimOrder(**v) for k, v in raw["orders"].items()},
            by_client=raw["by_client"],
            last_price=raw["last_price"],
            last_bar=raw.get("last_bar", {}),
            now=raw["now"],
            seq=raw["seq"],
        )


class StateStore(Protocol):
    def load(self) -> SimState | None: ...
    def save(self, state: SimState) -> None: ...
    def lock(self) -> contextlib.AbstractContextManager[None]: ...
    def clear(self) -> None: ...


class MemoryStore:
    """In-process state: no serialisation, no lock (the backtester, unit tests)."""

    def __init__(self) -> None:
        self.state: SimState | None = None

    def load(self) -> SimState | None:
        return self.state

    def save(self, state: SimState) -> None:
        self.state = state

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def clear(self) -> None:
        self.state = None


class RedisStore:
    """State as one JSON document in Redis. Every read-modify-write holds a Redis lock (shared by
    workers); a read is one GET of the whole document, which a save replaces atomically."""

    def __init__(self, client: Any, key: str = "simbroker:default") -> None:
        self.client, self.key = client, key

    def load(self) -> SimState | None:
        raw = self.client.get(self.key)
        return SimState.loads(raw) if raw else None

    def save(self, state: SimState) -> None:
        self.client.set(self.key, state.dumps())

    def lock(self) -> contextlib.AbstractContextManager[None]:
        lock = self.client.lock(f"{self.key}:lock", timeout=30, blocking_timeout=30)
        return _held(lock)

    def clear(self) -> None:
        self.client.delete(self.key)


@contextlib.contextmanager
def _held(lock: Any) -> Iterator[None]:
    if not lock.acquire():
        raise BrokerError("simulated broker: could not take the state lock")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            lock.release()
