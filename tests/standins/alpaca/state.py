"""The stand-in's brokerage: orders, positions, cash and prices, with Alpaca's order semantics.

Bodies are rendered exactly in the shape of Alpaca's Trading API (``trading-api.json`` examples and
alpaca-py's fixtures): every number in an order, position or account is a *string*, timestamps are
RFC 3339 UTC. State changes emit ``trade_updates`` events (``new``, ``fill``, ``partial_fill``,
``canceled``, ``replaced``, ``rejected``) to the registered listeners (the WebSocket server).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from tests.standins.alpaca.orders import (
    OPEN,
    TYPES,
    ApiError,
    Json,
    Order,
    Position,
    _dec,
    account_body,
    iso,
    num,
    position_body,
)


@dataclass
class Brokerage:
    """Thread-safe brokerage state. ``fill_mode``: fill | partial | hold | reject | reject_async."""

    cash: Decimal = Decimal(100_000)
    fill_mode: str = "fill"
    partial_fraction: Decimal = Decimal("0.5")
    default_price: Decimal = Decimal(100)
    prices: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    by_client: dict[str, str] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    listeners: list[Callable[[Json], None]] = field(default_factory=list)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    price_source: Callable[[str], float | None] | None = None  # e.g. the last stored close

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._pending: list[Json] = []

    # --- helpers --------------------------------------------------------------------------------
    def price(self, symbol: str) -> Decimal:
        if symbol in self.prices:
            return self.prices[symbol]
        last = self.price_source(symbol) if self.price_source else None
        return Decimal(str(last)) if last is not None else self.default_price

    def _emit(
        self, event: str, order: Order, *, price: Decimal | None = None, qty: Decimal | None = None
    ) -> None:
        pos = self.positions.get(order.symbol)
        data: Json = {
            "event": event,
            "execution_id": str(uuid.uuid4()) if event in {"fill", "partial_fill"} else None,
            "order": order.to_json(),
            "timestamp": iso(self.now()),
        }
        if event in {"fill", "partial_fill"}:
            data |= {
                "price": num(price),
                "qty": num(qty),
                "position_qty": num(pos.qty if pos else Decimal(0)),
            }
        self._pending.append({"stream": "trade_updates", "data": data})

    def _flush(self) -> None:
        events, self._pending = self._pending, []
        for ev in events:
            for listener in list(self.listeners):
                listener(ev)

    def _find(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, 40410000, "order not found")
        return order

    # --- fills ----------------------------------------------------------------------------------
    def _fill(self, order: Order, qty: Decimal, price: Decimal) -> None:
        ts = self.now()
        order.filled_qty += qty
        order.filled_value += qty * price
        order.updated_at = ts
        signed = qty if order.side == "buy" else -qty
        pos = self.positions.setdefault(order.symbol, Position())
        new_qty = pos.qty + signed
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            pos.avg = (pos.avg * abs(pos.qty) + price * qty) / abs(new_qty)
        elif new_qty != 0 and (new_qty > 0) != (pos.qty > 0):
            pos.avg = price  # flipped through zero: the remainder opens at this price
        pos.qty = new_qty
        if pos.qty == 0:
            del self.positions[order.symbol]
        self.cash -= signed * price
        if order.filled_qty >= order.qty:
            order.status, order.filled_at = "filled", ts
            self._emit("fill", order, price=price, qty=qty)
        else:
            order.status = "partially_filled"
            self._emit("partial_fill", order, price=price, qty=qty)

    def _triggered(self, order: Order, price: Decimal) -> bool:
        buy = order.side == "buy"
        if order.type == "market":
            return True
        if order.type == "limit":
            return price <= order.limit_price if buy else price >= order.limit_price  # type: ignore[operator]
        if order.type in {"stop", "stop_limit"}:
            hit = price >= order.stop_price if buy else price <= order.stop_price  # type: ignore[operator]
            if hit and order.type == "stop_limit":
                return price <= order.limit_price if buy else price >= order.limit_price  # type: ignore[operator]
            return hit
        # trailing stop: track the high (low) water mark, trigger at trail distance from it
        hwm = order.hwm if order.hwm is not None else price
        hwm = min(hwm, price) if buy else max(hwm, price)
        order.hwm = hwm
        dist = (
            order.trail_price
            if order.trail_price is not None
            else hwm * (order.trail_percent or 0) / 100
        )
        return price >= hwm + dist if buy else price <= hwm - dist

    def _match(self, order: Order) -> None:
        if order.status not in OPEN or self.fill_mode == "hold":
            return
        price = self.price(order.symbol)
        if not self._triggered(order, price):
            return
        if self.fill_mode == "partial" and order.filled_qty == 0 and order.qty > 1:
            part = (order.qty * self.partial_fraction).quantize(Decimal(1), rounding=ROUND_DOWN)
            self._fill(order, max(part, Decimal(1)), price)
        else:
            self._fill(order, order.remaining, price)

    # --- API operations -------------------------------------------------------------------------
    def submit(self, body: Json) -> Json:
        with self.lock:
            try:
                return self._submit(body)
            finally:
                self._flush()

    def _submit(self, body: Json) -> Json:
        symbol = str(body.get("symbol") or "").upper()
        side, otype = body.get("side"), body.get("type") or body.get("order_type") or "market"
        qty = _dec(body.get("qty"), "qty")
        if body.get("notional") is not None:
            raise ApiError(422, 40010001, "notional orders are not supported by the stand-in")
        if not symbol or side not in {"buy", "sell"} or otype not in TYPES:
            raise ApiError(422, 40010001, "invalid order: symbol, side and type are required")
        if qty is None or qty <= 0:
            raise ApiError(422, 40010001, "qty must be > 0")
        limit, stop = (
            _dec(body.get("limit_price"), "limit_price"),
            _dec(body.get("stop_price"), "stop_price"),
        )
        trail_pct, trail_px = (
            _dec(body.get("trail_percent"), "trail_percent"),
            _dec(body.get("trail_price"), "trail_price"),
        )
        if otype in {"limit", "stop_limit"} and limit is None:
            raise ApiError(422, 40010001, "limit_price is required")
        if otype in {"stop", "stop_limit"} and stop is None:
            raise ApiError(422, 40010001, "stop_price is required")
        if otype == "trailing_stop" and trail_pct is None and trail_px is None:
            raise ApiError(422, 40010001, "trail_percent or trail_price is required")
        client_id = body.get("client_order_id") or str(uuid.uuid4())
        if len(client_id) > 128:
            raise ApiError(422, 40010001, "client_order_id must be no more than 128 characters")
        if client_id in self.by_client:
            raise ApiError(422, 40010001, "client_order_id must be unique")
        if self.fill_mode == "reject":
            raise ApiError(403, 40310000, "insufficient buying power")
        if side == "buy" and qty * (limit or self.price(symbol)) > self.cash:
            raise ApiError(403, 40310000, "insufficient buying power")
        ts = self.now()
        order = Order(
            id=str(uuid.uuid4()),
            client_order_id=client_id,
            symbol=symbol,
            side=side,
            type=otype,
            time_in_force=body.get("time_in_force") or "day",
            qty=qty,
            created_at=ts,
            limit_price=limit,
            stop_price=stop,
            trail_percent=trail_pct,
            trail_price=trail_px,
            extended_hours=bool(body.get("extended_hours")),
        )
        self.orders[order.id] = order
        self.by_client[client_id] = order.id
        accepted = order.to_json()  # the answer shows the order as accepted, before any fill
        self._emit("new", order)
        if self.fill_mode == "reject_async":
            order.status, order.failed_at, order.updated_at = "rejected", ts, ts
            self._emit("rejected", order)
        else:
            self._match(order)
        return accepted

    def get(self, order_id: str) -> Json:
        with self.lock:
            return self._find(order_id).to_json()

    def by_client_id(self, client_order_id: str) -> Json:
        with self.lock:
            order_id = self.by_client.get(client_order_id)
            if order_id is None:
                raise ApiError(404, 40410000, "order not found")
            return self.orders[order_id].to_json()

    def list_orders(
        self,
        status: str = "open",
        limit: int = 50,
        symbols: list[str] | None = None,
        direction: str = "desc",
    ) -> list[Json]:
        with self.lock:
            rows = [
                o
                for o in self.orders.values()
                if (status == "all" or (o.status in OPEN) == (status == "open"))
                and (not symbols or o.symbol in symbols)
            ]
        rows.sort(key=lambda o: o.created_at, reverse=direction != "asc")
        return [o.to_json() for o in rows[:limit]]

    def cancel(self, order_id: str) -> None:
        with self.lock:
            try:
                order = self._find(order_id)
                if order.status not in OPEN:
                    raise ApiError(422, 42210000, f'order is already in "{order.status}" state')
                order.status = "canceled"
                order.canceled_at = order.updated_at = self.now()
                self._emit("canceled", order)
            finally:
                self._flush()

    def cancel_all(self) -> list[Json]:
        with self.lock:
            ids = [o.id for o in self.orders.values() if o.status in OPEN]
        out = []
        for oid in ids:
            self.cancel(oid)
            out.append({"id": oid, "status": 200, "body": self.get(oid)})
        return out

    def replace(self, order_id: str, body: Json) -> Json:
        with self.lock:
            try:
                old = self._find(order_id)
                if old.status not in OPEN:
                    raise ApiError(
                        422, 42210000, f'order is not replaceable in "{old.status}" state'
                    )
                qty = _dec(body.get("qty"), "qty") or old.remaining
                if qty <= 0:
                    raise ApiError(422, 40010001, "qty must be > 0")
                client_id = body.get("client_order_id") or str(uuid.uuid4())
                if client_id in self.by_client:
                    raise ApiError(422, 40010001, "client_order_id must be unique")
                ts = self.now()
                new = Order(
                    id=str(uuid.uuid4()),
                    client_order_id=client_id,
                    symbol=old.symbol,
                    side=old.side,
                    type=old.type,
                    time_in_force=body.get("time_in_force") or old.time_in_force,
                    qty=qty,
                    created_at=ts,
                    limit_price=_dec(body.get("limit_price"), "limit_price") or old.limit_price,
                    stop_price=_dec(body.get("stop_price"), "stop_price") or old.stop_price,
                    trail_percent=old.trail_percent,
                    trail_price=_dec(body.get("trail"), "trail") or old.trail_price,
                    extended_hours=old.extended_hours,
                    replaces=old.id,
                )
                old.status, old.replaced_at, old.replaced_by, old.updated_at = (
                    "replaced",
                    ts,
                    new.id,
                    ts,
                )
                self.orders[new.id] = new
                self.by_client[client_id] = new.id
                self._emit("replaced", old)
                answer = new.to_json()
                self._emit("new", new)
                self._match(new)
                return answer
            finally:
                self._flush()

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market: open orders of ``symbol`` that become marketable fill now."""
        with self.lock:
            self.prices[symbol] = price
            for order in list(self.orders.values()):
                if order.symbol == symbol:
                    self._match(order)
            self._flush()

    def fill(self, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> Json:
        """Force a (partial) fill of an open order, whatever the fill mode and price."""
        with self.lock:
            order = self._find(order_id)
            if order.status not in OPEN:
                raise ApiError(422, 42210000, "order is not open")
            self._fill(
                order,
                min(qty or order.remaining, order.remaining),
                price or self.price(order.symbol),
            )
            self._flush()
            return order.to_json()

    def position_json(self, symbol: str, pos: Position) -> Json:
        return position_body(symbol, pos, self.price(symbol))

    def list_positions(self) -> list[Json]:
        with self.lock:
            return [self.position_json(s, p) for s, p in sorted(self.positions.items())]

    def get_position(self, symbol: str) -> Json:
        with self.lock:
            pos = self.positions.get(symbol.upper())
            if pos is None:
                raise ApiError(404, 40410000, "position does not exist")
            return self.position_json(symbol.upper(), pos)

    def close_position(self, symbol: str) -> Json:
        with self.lock:
            pos = self.positions.get(symbol.upper())
            if pos is None:
                raise ApiError(404, 40410000, "position does not exist")
            side = "sell" if pos.qty > 0 else "buy"
            return self.submit(
                {
                    "symbol": symbol.upper(),
                    "qty": str(abs(pos.qty)),
                    "side": side,
                    "type": "market",
                    "time_in_force": "day",
                }
            )

    def account(self) -> Json:
        with self.lock:
            long_v = sum(
                (p.qty * self.price(s) for s, p in self.positions.items() if p.qty > 0), Decimal(0)
            )
            short_v = sum(
                (p.qty * self.price(s) for s, p in self.positions.items() if p.qty < 0), Decimal(0)
            )
            equity = self.cash + long_v + short_v
            bp = max(self.cash, Decimal(0))
        return account_body(self.cash, long_v, short_v, equity, bp)
