"""The simulated broker: the Broker port, filled from bars (or quotes), with cost models.

Used by the embedded default (``make run``), the tests, the replay command and the backtester.

- Order types: market, limit, stop, stop-limit, trailing-stop; ``day`` orders that do not fill on
  the first bar they see expire, ``gtc`` orders rest.
- Fills happen when the *next* bar (``on_bar``) or quote (``on_quote``) arrives: an order never
  fills on the bar whose close the decision was made on. Market orders fill at the bar's open;
  stops trigger on the bar's range and fill at the stop, or at the open when the bar gaps through;
  limits fill at the limit or better; trailing stops ratchet on each bar's high (sells) / low (buys)
  *after* checking the trigger, so an intrabar path is never assumed in the trader's favour.
- Optional partial fills: at most ``max_participation`` x bar volume per bar.
- Commission and slippage come from :mod:`apps.execution.costs`.
- State lives in a :class:`StateStore` (:mod:`apps.execution.brokers.simulated_state`):
  :class:`MemoryStore` (no DB, no Redis) or :class:`RedisStore` (shared by every worker).
- The fill rules are :mod:`apps.execution.matching`, shared with the backtester.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.execution.brokers.base import (
    Account,
    Broker,
    BrokerOrder,
    BrokerPosition,
    MarketClock,
    OrderNotFoundError,
    OrderRejectedError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)
from apps.execution.brokers.simulated_state import (
    MemoryStore,
    RedisStore,
    SimOrder,
    SimPosition,
    SimState,
    StateStore,
)
from apps.execution.costs import (
    CommissionModel,
    NoCommission,
    NoSlippage,
    SlippageModel,
    commission_from_dict,
    slippage_from_dict,
)
from apps.execution.ledger import book_amount
from apps.execution.matching import fill_quantity, order_match
from apps.market.clock import market_clock

__all__ = [
    "MemoryStore",
    "PriceBar",
    "RedisStore",
    "SimOrder",
    "SimPosition",
    "SimState",
    "SimulatedBroker",
    "StateStore",
    "memory_broker",
]

log = logging.getLogger(__name__)

_OPEN = {OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}


def _q(x: Decimal) -> Decimal:
    return book_amount(x)


def _d(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


# ---- the broker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceBar:
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


class SimulatedBroker(Broker):
    """See the module docstring. ``store=MemoryStore()`` for a broker with no DB and no Redis."""

    kind = "simulated"

    def __init__(
        self,
        *,
        store: StateStore | None = None,
        initial_cash: Decimal | float | str = Decimal(100_000),
        commission: CommissionModel | dict[str, Any] | None = None,
        slippage: SlippageModel | dict[str, Any] | None = None,
        max_participation: Decimal | float | str | None = None,
        name: str = "simulated",
    ) -> None:
        self.store: StateStore = store if store is not None else MemoryStore()
        self.initial_cash = _d(initial_cash)
        self.commission = (
            commission_from_dict(commission) if isinstance(commission, dict) else commission
        ) or NoCommission()
        self.slippage = (
            slippage_from_dict(slippage) if isinstance(slippage, dict) else slippage
        ) or NoSlippage()
        self.max_participation = _d(max_participation) if max_participation else None
        self.name = name
        self._callbacks: list[Callable[[OrderUpdate], None]] = []
        self._pending_updates: list[OrderUpdate] = []

    # ---- state session --------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self, write: bool = True) -> Iterator[SimState]:
        # A read takes no lock: the state is one document that a save replaces whole (one Redis
        # SET), so a load sees it before or after a write, never half of one. Only a
        # read-modify-write holds the lock (it halves the Redis round trips of a risk decision).
        with self.store.lock() if write else contextlib.nullcontext():
            state = self.store.load()
            if state is None:
                state = SimState(cash=self.initial_cash, initial_cash=self.initial_cash)
            yield state
            if write:
                self.store.save(state)
        updates, self._pending_updates = self._pending_updates, []
        for update in updates:
            for cb in self._callbacks:
                try:
                    cb(update)
                except Exception:
                    log.exception("simulated broker: update callback failed")

    def _emit(self, state: SimState, order: SimOrder, event: str, **kw: Any) -> OrderUpdate:
        u = OrderUpdate(event=event, order=order.view(), at=order.updated_at, **kw)
        self._pending_updates.append(u)
        return u

    def _now(self, state: SimState) -> datetime:
        return state.now or market_clock().now()

    def reset(self, *, cash: Decimal | float | str | None = None) -> None:
        """Forget every order and position and start again with ``cash``."""
        with self.store.lock():
            self.store.clear()
            c = _d(cash) if cash is not None else self.initial_cash
            self.store.save(SimState(cash=c, initial_cash=c))

    # ---- the port ---------------------------------------------------------------------------
    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if request.qty <= 0:
            raise OrderRejectedError(f"qty must be > 0, got {request.qty}")
        with self._session() as st:
            existing = st.by_client.get(request.client_order_id)
            if existing is not None:
                # Alpaca answers 422 to a duplicate client_order_id: a second order is never made.
                raise OrderRejectedError(
                    f"client_order_id {request.client_order_id!r} already used by {existing}"
                )
            self._validate(request)
            last = st.last_price.get(request.symbol)
            if request.side == OrderSide.BUY and request.type == OrderType.MARKET and last:
                held = st.positions.get(request.symbol)
                covering = max(-(held.qty if held else Decimal(0)), Decimal(0))
                cost = (request.qty - min(covering, request.qty)) * last
                if cost > st.cash:
                    raise OrderRejectedError(
                        f"insufficient buying power: need {cost:.2f}, have {st.cash:.2f}"
                    )
            st.seq += 1
            now = self._now(st)
            order = SimOrder(
                id=f"sim-{st.seq:08d}",
                client_order_id=request.client_order_id,
                symbol=request.symbol,
                side=str(request.side),
                qty=request.qty,
                type=str(request.type),
                status=OrderStatus.ACCEPTED,
                time_in_force=request.time_in_force,
                submitted_at=now,
                updated_at=now,
                limit_price=request.limit_price,
                stop_price=request.stop_price,
                trail_percent=request.trail_percent,
                watermark=last if request.type == OrderType.TRAILING_STOP else None,
            )
            st.orders[order.id] = order
            st.by_client[order.client_order_id] = order.id
            self._emit(st, order, "new")
            return order.view()

    @staticmethod
    def _validate(r: OrderRequest) -> None:
        if r.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and not r.limit_price:
            raise OrderRejectedError(f"{r.type} order needs limit_price")
        if r.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not r.stop_price:
            raise OrderRejectedError(f"{r.type} order needs stop_price")
        if r.type == OrderType.TRAILING_STOP and not r.trail_percent:
            raise OrderRejectedError("trailing_stop order needs trail_percent")

    def cancel_order(self, broker_order_id: str) -> None:
        with self._session() as st:
            order = self._get(st, broker_order_id)
            if OrderStatus(order.status) not in _OPEN:
                raise OrderRejectedError(
                    f"order {broker_order_id} is {order.status}, not cancelable"
                )
            order.status = OrderStatus.CANCELED
            order.updated_at = self._now(st)
            self._emit(st, order, "canceled")

    def replace_order(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder:
        with self._session() as st:
            order = self._get(st, broker_order_id)
            if OrderStatus(order.status) not in _OPEN:
                raise OrderRejectedError(
                    f"order {broker_order_id} is {order.status}, not replaceable"
                )
            if qty is not None:
                if qty < order.filled_qty or qty <= 0:
                    raise OrderRejectedError(f"qty {qty} below filled {order.filled_qty}")
                order.qty = qty
            if limit_price is not None:
                order.limit_price = limit_price
            if stop_price is not None:
                order.stop_price = stop_price
            order.updated_at = self._now(st)
            self._emit(st, order, "replaced")
            return order.view()

    def get_order(self, broker_order_id: str) -> BrokerOrder:
        with self._session(write=False) as st:
            return self._get(st, broker_order_id).view()

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        with self._session(write=False) as st:
            oid = st.by_client.get(client_order_id)
            return st.orders[oid].view() if oid else None

    def open_orders(self) -> list[BrokerOrder]:
        with self._session(write=False) as st:
            return [o.view() for o in st.orders.values() if OrderStatus(o.status) in _OPEN]

    def all_orders(self) -> list[BrokerOrder]:
        with self._session(write=False) as st:
            return [o.view() for o in st.orders.values()]

    def positions(self) -> list[BrokerPosition]:
        with self._session(write=False) as st:
            out = []
            for sym, p in sorted(st.positions.items()):
                if p.qty == 0:
                    continue
                px = st.last_price.get(sym)
                out.append(
                    BrokerPosition(
                        symbol=sym,
                        qty=p.qty,
                        avg_entry_price=p.avg_entry,
                        market_value=_q(p.qty * px) if px is not None else None,
                        unrealized_pl=_q((px - p.avg_entry) * p.qty) if px is not None else None,
                        current_price=px,
                    )
                )
            return out

    def account(self) -> Account:
        with self._session(write=False) as st:
            equity = st.cash + sum(
                (p.qty * st.last_price.get(s, p.avg_entry) for s, p in st.positions.items()),
                Decimal(0),
            )
            return Account(
                equity=_q(equity), cash=_q(st.cash), buying_power=_q(max(st.cash, Decimal(0)))
            )

    def clock(self) -> MarketClock:
        with self._session(write=False) as st:
            return MarketClock(timestamp=self._now(st), is_open=True)

    def subscribe_updates(self, callback: Callable[[OrderUpdate], None]) -> None:
        self._callbacks.append(callback)

    def _get(self, st: SimState, broker_order_id: str) -> SimOrder:
        try:
            return st.orders[broker_order_id]
        except KeyError:
            raise OrderNotFoundError(broker_order_id) from None

    # ---- the market -------------------------------------------------------------------------
    def set_price(
        self, symbol: str, price: Decimal | float | str, at: datetime | None = None
    ) -> None:
        """Mark ``symbol`` at ``price`` (no fills)."""
        with self._session() as st:
            st.last_price[symbol] = _d(price)
            if at is not None and (st.now is None or at > st.now):
                st.now = at

    def on_bar(
        self,
        symbol: str,
        *,
        time: datetime,
        open: Decimal | float | str,
        high: Decimal | float | str,
        low: Decimal | float | str,
        close: Decimal | float | str,
        volume: Decimal | float | str = 0,
    ) -> list[OrderUpdate]:
        """A new bar of ``symbol``: fill what it reaches, then mark the symbol at its close.

        Bars at or before the newest bar already applied to ``symbol`` are ignored, so feeding the
        same bar twice (a retried task) never fills twice.
        """
        bar = PriceBar(time, _d(open), _d(high), _d(low), _d(close), _d(volume))
        with self._session() as st:
            seen = st.last_bar.get(symbol)
            if seen is not None and time <= seen:
                return []  # already applied (a retried task, a replayed tick): never fill twice
            st.last_bar[symbol] = time
            if st.now is None or time > st.now:
                st.now = time
            before = len(self._pending_updates)
            orders = [
                o
                for o in st.orders.values()
                if o.symbol == symbol and OrderStatus(o.status) in _OPEN
            ]
            capacity = (
                self.max_participation * bar.volume
                if self.max_participation and bar.volume
                else None
            )
            for order in sorted(orders, key=lambda o: o.id):
                capacity = self._try_fill_bar(st, order, bar, capacity)
            st.last_price[symbol] = bar.close
            return self._pending_updates[before:]

    def on_quote(
        self,
        symbol: str,
        *,
        time: datetime,
        bid: Decimal | float | str,
        ask: Decimal | float | str,
    ) -> list[OrderUpdate]:
        """A quote of ``symbol``: market orders cross the spread; limits/stops check bid/ask."""
        b, a = _d(bid), _d(ask)
        with self._session() as st:
            if st.now is None or time > st.now:
                st.now = time
            before = len(self._pending_updates)
            for order in sorted(
                (
                    o
                    for o in st.orders.values()
                    if o.symbol == symbol and OrderStatus(o.status) in _OPEN
                ),
                key=lambda o: o.id,
            ):
                px = a if order.side == OrderSide.BUY else b
                bar = PriceBar(time, px, px, px, px)
                self._try_fill_bar(st, order, bar, None, spread=a - b)
            st.last_price[symbol] = (a + b) / 2
            return self._pending_updates[before:]

    def _try_fill_bar(
        self,
        st: SimState,
        o: SimOrder,
        bar: PriceBar,
        capacity: Decimal | None,
        spread: Decimal | None = None,
    ) -> Decimal | None:
        buy = o.side == OrderSide.BUY
        kind = OrderType(o.type)
        if kind == OrderType.TRAILING_STOP and o.watermark is None:
            o.watermark = bar.open
        m = order_match(
            kind=str(kind),
            buy=buy,
            open_=bar.open,
            high=bar.high,
            low=bar.low,
            limit=o.limit_price,
            stop=o.stop_price,
            triggered=o.triggered,
            watermark=o.watermark,
            trail_percent=o.trail_percent,
            level=o.current_stop() if kind == OrderType.TRAILING_STOP else None,
        )
        o.triggered = m.triggered
        if m.watermark is not None and kind == OrderType.TRAILING_STOP:
            assert isinstance(m.watermark, Decimal)
            o.watermark = m.watermark
        base = m.base
        assert base is None or isinstance(base, Decimal)
        o.bars_seen += 1
        if base is None:
            if o.time_in_force == "day" and kind != OrderType.MARKET and o.bars_seen >= 1:
                o.status = OrderStatus.EXPIRED
                o.updated_at = bar.time
                self._emit(st, o, "expired")
            return capacity
        qty = fill_quantity(o.qty - o.filled_qty, capacity)
        if qty <= 0:
            return capacity
        side = "buy" if buy else "sell"
        price = self.slippage.fill_price(side, base, qty, volume=bar.volume or None, spread=spread)
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and o.limit_price is not None:
            price = min(price, o.limit_price) if buy else max(price, o.limit_price)
        price = _q(price)
        fee = _q(self.commission.fee(qty, price))
        self._book_fill(st, o.symbol, qty if buy else -qty, price, fee)
        total = o.filled_qty + qty
        prev_value = (o.filled_avg_price or Decimal(0)) * o.filled_qty
        o.filled_avg_price = _q((prev_value + price * qty) / total)
        o.filled_qty = total
        o.commission += fee
        o.updated_at = bar.time
        o.status = OrderStatus.FILLED if total >= o.qty else OrderStatus.PARTIALLY_FILLED
        self._emit(st, o, "fill" if total >= o.qty else "partial_fill", price=price, qty=qty)
        return None if capacity is None else capacity - qty

    @staticmethod
    def _book_fill(
        st: SimState, symbol: str, signed_qty: Decimal, price: Decimal, fee: Decimal
    ) -> None:
        st.cash -= signed_qty * price + fee
        pos = st.positions.get(symbol) or SimPosition(Decimal(0), Decimal(0))
        new_qty = pos.qty + signed_qty
        if pos.qty == 0 or (pos.qty > 0) == (signed_qty > 0):
            # opening or adding: volume-weighted average entry
            pos.avg_entry = _q(
                (pos.avg_entry * abs(pos.qty) + price * abs(signed_qty)) / abs(new_qty)
            )
        elif new_qty != 0 and (new_qty > 0) != (pos.qty > 0):
            pos.avg_entry = price  # flipped through zero: the rest opened at this price
        pos.qty = new_qty
        if new_qty == 0:
            pos.avg_entry = Decimal(0)
        st.positions[symbol] = pos


def memory_broker(**kwargs: Any) -> SimulatedBroker:
    """A broker with no DB and no Redis (the backtester)."""
    return SimulatedBroker(store=MemoryStore(), **kwargs)
