"""The Alpaca adapter: the broker port on alpaca-py's ``TradingClient`` and ``TradingStream``.

Paper or live is only the ``paper`` flag handed to alpaca-py (it picks the base URL); there is no
other branch. ``ALPACA_BASE_URL``/``ALPACA_STREAM_URL`` override the URLs (the stand-in in tests).

Every HTTP request takes a token from the Redis bucket shared by all workers (200/min), has a
timeout, and is timed. Errors become the port's typed errors (429 -> RateLimitedError with
``retry_after_s``; 5xx, timeouts, dropped connections -> TransientBrokerError; 403/422 ->
OrderRejectedError; 404 -> OrderNotFoundError). 429s are retried within ``ALPACA_RETRY_BUDGET_S``.

``submit_order`` is idempotent on ``client_order_id``: Alpaca answers 422 to a duplicate id, and the
adapter then returns the order that already carries it (after checking it is the same order). So a
retried submit after a timeout, or a worker restarted after a crash, never places a second order.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

from alpaca.common.exceptions import APIError
from alpaca.trading import enums as ae
from alpaca.trading import models as am
from alpaca.trading import requests as ar
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream
from django.conf import settings

from apps.core.alpaca import stop_stream
from apps.core.ratelimit import TokenBucket, call_with_retry, limited_session
from apps.core.redis_client import redis_client
from apps.execution.brokers.alpaca.mapping import (
    DuplicateClientOrderIdError,
    alpaca_price,
    order_from_alpaca,
    position_from_alpaca,
    translate_error,
    update_from_alpaca,
)
from apps.execution.brokers.base import (
    Account,
    Broker,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    MarketClock,
    OrderNotFoundError,
    OrderRequest,
    OrderType,
    OrderUpdate,
    RateLimitedError,
    TransientBrokerError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class AlpacaBroker(Broker):
    kind = "alpaca"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        secret_key: str | None = None,
        paper: bool | None = None,
        base_url: str | None = None,
        stream_url: str | None = None,
        bucket: TokenBucket | None = None,
        timeout_s: float | None = None,
        retry_budget_s: float | None = None,
        max_wait_s: float | None = None,
    ) -> None:
        self.api_key = api_key or settings.ALPACA_API_KEY
        self.secret_key = secret_key or settings.ALPACA_SECRET_KEY
        if not (self.api_key and self.secret_key):
            raise BrokerError("ALPACA_API_KEY / ALPACA_SECRET_KEY are not set (BROKER=alpaca)")
        self.paper = settings.ALPACA_PAPER if paper is None else paper
        self.stream_url = stream_url or settings.ALPACA_STREAM_URL or None
        self.retry_budget_s = (
            settings.ALPACA_RETRY_BUDGET_S if retry_budget_s is None else retry_budget_s
        )
        self.extended_hours = bool(settings.TRADING_ALLOW_EXTENDED_HOURS)
        if bucket is None:
            account = hashlib.sha1(self.api_key.encode()).hexdigest()[:10]
            bucket = TokenBucket.per_minute(
                redis_client(), f"ratelimit:alpaca:{account}", settings.ALPACA_RATE_LIMIT_PER_MIN
            )
        self.bucket = bucket
        self.client = TradingClient(
            self.api_key,
            self.secret_key,
            paper=self.paper,
            url_override=base_url or settings.ALPACA_BASE_URL or None,
        )
        # Our session: bucket + timeout + metrics. alpaca-py's own 429 retry (fixed 3 s sleeps,
        # Retry-After ignored) is switched off: call_with_retry honours Retry-After in a budget.
        self.client._session = limited_session(
            bucket,
            timeout_s=settings.ALPACA_REQUEST_TIMEOUT_S if timeout_s is None else timeout_s,
            max_wait_s=settings.ALPACA_RATE_LIMIT_MAX_WAIT_S if max_wait_s is None else max_wait_s,
            broker="alpaca",
        )
        self.client._retry_codes = []
        self._stream: TradingStream | None = None
        self._stream_thread: threading.Thread | None = None

    # --- plumbing -------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T], *, transient_retry: bool) -> T:
        """Run one client call with typed errors; retry 429 (and 5xx/timeouts if safe) in budget."""

        def attempt() -> T:
            try:
                return fn()
            except Exception as exc:
                raise translate_error(exc) from exc

        retry_on: tuple[type[BaseException], ...] = (
            (TransientBrokerError,) if transient_retry else (RateLimitedError,)
        )
        return call_with_retry(attempt, budget_s=self.retry_budget_s, retry_on=retry_on)

    def _request(self, req: OrderRequest) -> ar.OrderRequest:
        common: dict[str, Any] = {
            "symbol": req.symbol,
            "qty": float(req.qty),
            "side": ae.OrderSide(req.side.value),
            "time_in_force": ae.TimeInForce(req.time_in_force),
            "client_order_id": req.client_order_id,
        }
        if req.type is OrderType.MARKET:
            return ar.MarketOrderRequest(**common)
        if req.type is OrderType.LIMIT:
            # Alpaca takes extended-hours orders only as DAY limit orders.
            ext = self.extended_hours and req.time_in_force == "day"
            return ar.LimitOrderRequest(
                **common, limit_price=alpaca_price(req.limit_price), extended_hours=ext
            )
        if req.type is OrderType.STOP:
            return ar.StopOrderRequest(**common, stop_price=alpaca_price(req.stop_price))
        if req.type is OrderType.STOP_LIMIT:
            return ar.StopLimitOrderRequest(
                **common,
                stop_price=alpaca_price(req.stop_price),
                limit_price=alpaca_price(req.limit_price),
            )
        return ar.TrailingStopOrderRequest(
            **common,
            trail_percent=float(req.trail_percent) if req.trail_percent is not None else None,
        )

    # --- the port -------------------------------------------------------------------------------
    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        alpaca_req = self._request(request)

        def submit() -> BrokerOrder:
            try:
                return order_from_alpaca(self.client.submit_order(alpaca_req))  # type: ignore[arg-type]
            except APIError as exc:
                err = translate_error(exc)
                if not isinstance(err, DuplicateClientOrderIdError):
                    raise
                existing = self.get_order_by_client_id(request.client_order_id)
                if existing is None or (existing.symbol, existing.side, existing.qty) != (
                    request.symbol,
                    request.side,
                    request.qty,
                ):
                    raise err from exc
                log.info(
                    "alpaca: %s already placed (%s); returning it",
                    request.client_order_id,
                    existing.broker_order_id,
                )
                return existing

        # Safe to retry even after a timeout: a second submit finds the first by its client id.
        return self._call(submit, transient_retry=True)

    def cancel_order(self, broker_order_id: str) -> None:
        self._call(lambda: self.client.cancel_order_by_id(broker_order_id), transient_retry=True)

    def replace_order(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder:
        req = ar.ReplaceOrderRequest(
            qty=int(qty) if qty is not None else None,
            limit_price=alpaca_price(limit_price),
            stop_price=alpaca_price(stop_price),
        )
        # Not retried on 5xx/timeouts: a replace that did reach Alpaca cannot be told apart.
        order = self._call(
            lambda: self.client.replace_order_by_id(broker_order_id, req), transient_retry=False
        )
        return order_from_alpaca(order)  # type: ignore[arg-type]

    def get_order(self, broker_order_id: str) -> BrokerOrder:
        order = self._call(
            lambda: self.client.get_order_by_id(broker_order_id), transient_retry=True
        )
        return order_from_alpaca(order)  # type: ignore[arg-type]

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        try:
            order = self._call(
                lambda: self.client.get_order_by_client_id(client_order_id), transient_retry=True
            )
        except OrderNotFoundError:
            return None
        return order_from_alpaca(order)  # type: ignore[arg-type]

    def open_orders(self) -> list[BrokerOrder]:
        req = ar.GetOrdersRequest(status=ae.QueryOrderStatus.OPEN, limit=500)
        orders = self._call(lambda: self.client.get_orders(req), transient_retry=True)
        return [order_from_alpaca(o) for o in orders]  # type: ignore[arg-type]

    def positions(self) -> list[BrokerPosition]:
        rows = cast(
            list[am.Position], self._call(self.client.get_all_positions, transient_retry=True)
        )
        return [position_from_alpaca(p) for p in rows]

    def account(self) -> Account:
        a = cast(am.TradeAccount, self._call(self.client.get_account, transient_retry=True))
        return Account(
            equity=Decimal(str(a.equity)),
            cash=Decimal(str(a.cash)),
            buying_power=Decimal(str(a.buying_power)),
            currency=str(a.currency or "USD"),
            trading_blocked=bool(a.trading_blocked or a.account_blocked),
        )

    def clock(self) -> MarketClock:
        c = cast(am.Clock, self._call(self.client.get_clock, transient_retry=True))
        return MarketClock(
            timestamp=c.timestamp,
            is_open=bool(c.is_open),
            next_open=c.next_open,
            next_close=c.next_close,
        )

    # --- trade updates --------------------------------------------------------------------------
    def _make_stream(self, callback: Callable[[OrderUpdate], None]) -> TradingStream:
        stream = TradingStream(
            self.api_key,
            self.secret_key,
            paper=self.paper,
            url_override=self.stream_url,  # type: ignore[arg-type]
        )

        async def handler(update: am.TradeUpdate) -> None:
            try:
                # Off the event loop: the callback may use the ORM (sync-only under a loop).
                await asyncio.to_thread(callback, update_from_alpaca(update))
            except Exception:
                log.exception("alpaca trade update handler failed for %s", update.order.id)

        stream.subscribe_trade_updates(handler)
        return stream

    def subscribe_updates(self, callback: Callable[[OrderUpdate], None]) -> None:
        """Start the ``trade_updates`` WebSocket in a background thread (reconnects by itself)."""
        if self._stream is not None:
            raise BrokerError("already subscribed to trade updates")
        self._stream = self._make_stream(callback)
        self._stream_thread = threading.Thread(
            target=self._stream.run, name="alpaca-trade-updates", daemon=True
        )
        self._stream_thread.start()

    def run_updates(self, callback: Callable[[OrderUpdate], None]) -> None:
        """Blocking variant for a long-running process (returns when the stream is stopped)."""
        self._stream = self._make_stream(callback)
        self._stream.run()

    def close(self) -> None:
        """Stop the trade-updates stream, if any."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stop_stream(stream)
        if self._stream_thread is not None:
            self._stream_thread.join(timeout=10)
            self._stream_thread = None
