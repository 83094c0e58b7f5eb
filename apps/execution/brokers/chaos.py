"""The simulated broker as a flaky remote API, for the fault suite (``make faults``).

Behind the same shared request budget as Alpaca (``ALPACA_RATE_LIMIT_PER_MIN`` in the Redis token
bucket), every order request is logged at "the broker" (a Redis sorted set of request times) and,
while a fault window set by :func:`fault_set` is open, every call answers as a struggling API would:

* ``429``: :class:`RateLimitedError` with ``Retry-After: 1``;
* ``5xx``: :class:`TransientBrokerError` ("HTTP 503");
* ``timeout``: the order *is* placed, then the answer is lost (:class:`TransientBrokerError`), the
  ambiguous case an idempotent client order id must absorb;
* ``partial``: fills are capped at a sliver of each bar's volume, so orders fill in parts.

Used only when ``BROKER_FAULT_INJECTION`` is on; never in a normal run.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from apps.core.clock import wall_time
from apps.execution.brokers.base import (
    Account,
    BrokerOrder,
    BrokerPosition,
    MarketClock,
    OrderRequest,
    RateLimitedError,
    TransientBrokerError,
)
from apps.execution.brokers.simulated import SimulatedBroker

FAULT_KEY = "faults:broker"
CALLS_KEY = "faults:broker:calls"
MODES = ("429", "5xx", "timeout", "partial")
PARTIAL_PARTICIPATION = Decimal("0.0000001")  # of a bar's volume: a few shares per daily bar


def fault_set(client: Any, mode: str, seconds: float) -> None:
    """Open a fault window of ``mode`` for ``seconds`` (shared by every worker through Redis)."""
    if mode not in MODES:
        raise ValueError(f"unknown broker fault {mode!r}; known: {', '.join(MODES)}")
    client.set(FAULT_KEY, json.dumps({"mode": mode, "until": wall_time() + seconds}))


def fault_clear(client: Any) -> None:
    client.delete(FAULT_KEY)


def calls_per_window(client: Any, window_s: float = 60.0) -> int:
    """The most requests the broker saw in any ``window_s`` (from its request log)."""
    times = sorted(float(score) for _, score in client.zrange(CALLS_KEY, 0, -1, withscores=True))
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


class ChaosSimulatedBroker(SimulatedBroker):
    def __init__(self, *, client: Any, bucket: Any, max_wait_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client, self._bucket, self._max_wait_s = client, bucket, max_wait_s

    # A data descriptor beats the attribute SimulatedBroker.__init__ sets.
    @property
    def max_participation(self) -> Decimal | None:
        return PARTIAL_PARTICIPATION if self._mode() == "partial" else None

    @max_participation.setter
    def max_participation(self, value: Decimal | None) -> None:
        """Ignored: the fault window decides."""

    def _mode(self) -> str:
        try:
            raw = self._client.get(FAULT_KEY)
        except Exception:  # noqa: BLE001 - Redis away: no fault window can be read
            return ""
        if not raw:
            return ""
        plan = json.loads(raw)
        return str(plan["mode"]) if float(plan["until"]) > wall_time() else ""

    def _request(self, *, metered: bool = True) -> str:
        """One API request: take a token, log it at the broker, answer the fault if one is on.

        Order requests are metered; account, positions and clock reads only see the faults (the
        suite's thousands of signals each read them, which at 200/min would take hours).
        """
        if metered:
            self._bucket.acquire(max_wait_s=self._max_wait_s)
            now = wall_time()
            self._client.zadd(CALLS_KEY, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        mode = self._mode()
        if mode == "429":
            raise RateLimitedError("HTTP 429 too many requests (injected)", retry_after_s=1.0)
        if mode == "5xx":
            raise TransientBrokerError("HTTP 503 service unavailable (injected)")
        return mode

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        mode = self._request()
        order = super().submit_order(request)
        if mode == "timeout":
            raise TransientBrokerError("read timed out after the order was sent (injected)")
        return order

    def cancel_order(self, broker_order_id: str) -> None:
        self._request()
        super().cancel_order(broker_order_id)

    def replace_order(self, *args: Any, **kwargs: Any) -> BrokerOrder:
        self._request()
        return super().replace_order(*args, **kwargs)

    def get_order(self, broker_order_id: str) -> BrokerOrder:
        self._request()
        return super().get_order(broker_order_id)

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._request()
        return super().get_order_by_client_id(client_order_id)

    def open_orders(self) -> list[BrokerOrder]:
        self._request()
        return super().open_orders()

    def positions(self) -> list[BrokerPosition]:
        self._request(metered=False)
        return super().positions()

    def account(self) -> Account:
        self._request(metered=False)
        return super().account()

    def clock(self) -> MarketClock:
        self._request(metered=False)
        return super().clock()
