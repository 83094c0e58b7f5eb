"""Broker request budget: a token bucket in Redis shared by every worker, and 429 retries.

Alpaca allows 200 requests a minute per account, not per process, so the bucket lives in Redis and
is taken with one atomic Lua script (it reads Redis' own clock, so workers with skewed clocks agree).
``TokenBucket.acquire`` blocks until a token is free or ``max_wait_s`` would be exceeded.

``call_with_retry`` retries a call that failed with :class:`RateLimitedError` (HTTP 429), waiting
what the server's ``Retry-After`` says (else exponential backoff with jitter), within a total
budget: it never starts a wait that would end past the budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import requests
from prometheus_client import Counter, Histogram
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_before_delay,
    wait_exponential_jitter,
)

from apps.core.errors import RateLimitedError

log = logging.getLogger(__name__)

T = TypeVar("T")

THROTTLED = Counter(
    "tradebot_execution_broker_throttled_total",
    "Broker requests delayed (waited) or refused (budget exceeded) by the shared token bucket",
    ["bucket", "outcome"],
)
RATE_LIMITED = Counter(
    "tradebot_execution_broker_429_total", "HTTP 429 answers from the broker", ["broker"]
)
RETRIES = Counter(
    "tradebot_execution_broker_retries_total",
    "Broker calls retried after a 429, by outcome of the whole call",
    ["broker", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "tradebot_execution_broker_request_seconds",
    "Latency of one HTTP request to the broker, by method and status class",
    ["broker", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# KEYS[1] = bucket hash. ARGV: capacity, refill tokens per second, tokens wanted.
# Returns {granted (0/1), milliseconds until enough tokens, tokens left (floor)}.
_LUA = """
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
local elapsed = math.max(0, now - ts)
tokens = math.min(capacity, tokens + elapsed * rate / 1000)
local granted = 0
local wait_ms = 0
if tokens >= want then
  tokens = tokens - want
  granted = 1
else
  wait_ms = math.ceil((want - tokens) * 1000 / rate)
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 60000)
return {granted, wait_ms, math.floor(tokens)}
"""


class ThrottledError(RateLimitedError):
    """The shared bucket had no token within the allowed wait: nothing was sent to the broker."""


@dataclass(frozen=True)
class Grant:
    waited_s: float


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``refill_per_s``; state in one Redis hash."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        capacity: int,
        refill_per_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("capacity must be >= 1 and refill_per_s > 0")
        self.client, self.key = client, key
        self.capacity, self.refill_per_s = capacity, refill_per_s
        self._sleep = sleep
        self._script = client.register_script(_LUA)

    @classmethod
    def per_minute(cls, client: redis.Redis, key: str, limit: int) -> TokenBucket:
        """A bucket of ``limit`` requests a minute with bursts up to ``limit``."""
        return cls(client, key, capacity=limit, refill_per_s=limit / 60.0)

    def try_acquire(self, tokens: int = 1) -> tuple[bool, float]:
        """One atomic attempt: (granted, seconds to wait before enough tokens could exist)."""
        granted, wait_ms, _left = self._script(
            keys=[self.key], args=[self.capacity, self.refill_per_s, tokens]
        )
        return bool(granted), int(wait_ms) / 1000.0

    def acquire(self, *, max_wait_s: float, tokens: int = 1) -> Grant:
        """Block until granted. Raises :class:`ThrottledError` if that would take > ``max_wait_s``."""
        start = time.monotonic()
        waited = False
        while True:
            granted, wait_s = self.try_acquire(tokens)
            if granted:
                if waited:
                    THROTTLED.labels(self.key, "waited").inc()
                return Grant(time.monotonic() - start)
            elapsed = time.monotonic() - start
            if elapsed + wait_s > max_wait_s:
                THROTTLED.labels(self.key, "refused").inc()
                log.warning(
                    "rate limit %s: no token within %.1fs (next in %.2fs); request not sent",
                    self.key,
                    max_wait_s,
                    wait_s,
                )
                raise ThrottledError(
                    f"local rate limit {self.key}: no token within {max_wait_s}s",
                    retry_after_s=wait_s,
                )
            waited = True
            # Sleep a little past the computed time: another worker may take the token first.
            self._sleep(max(wait_s, 0.001))

    def reset(self) -> None:
        self.client.delete(self.key)


def _wait_retry_after(
    fallback: Callable[[RetryCallState], float],
) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None and retry_after >= 0:
            return float(retry_after)
        return fallback(state)

    return wait


def call_with_retry(
    fn: Callable[[], T],
    *,
    budget_s: float,
    broker: str = "alpaca",
    retry_on: tuple[type[BaseException], ...] = (RateLimitedError,),
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; on ``retry_on`` errors wait (Retry-After, else backoff) and retry in budget.

    The last error is re-raised when the next wait would end beyond ``budget_s`` after the start.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(retry_on),
        wait=_wait_retry_after(wait_exponential_jitter(multiplier=0.2, max=10.0, jitter=0.2)),
        stop=stop_before_delay(budget_s),
        sleep=sleep,
        reraise=True,
    )
    attempts = 0

    def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return fn()

    try:
        result = retrying(attempt)
    except retry_on:
        if attempts > 1:
            RETRIES.labels(broker, "gave_up").inc()
            log.warning(
                "%s: gave up after %d attempts (retry budget %.0fs)", broker, attempts, budget_s
            )
        raise
    if attempts > 1:
        RETRIES.labels(broker, "succeeded").inc()
        log.info("%s: succeeded after %d attempts", broker, attempts)
    return result


class LimitedSession(requests.Session):
    """A ``requests`` session whose every request takes a bucket token, has a timeout, is timed.

    Installed as the ``_session`` of alpaca-py clients, so nothing reaches Alpaca around it.
    """

    def __init__(
        self, bucket: TokenBucket | None, *, timeout_s: float, max_wait_s: float, broker: str
    ) -> None:
        super().__init__()
        self.bucket, self.timeout_s, self.max_wait_s, self.broker = (
            bucket,
            timeout_s,
            max_wait_s,
            broker,
        )

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self.bucket is not None:
            self.bucket.acquire(max_wait_s=self.max_wait_s)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        verb = method.decode() if isinstance(method, bytes) else method
        status = "error"
        start = time.perf_counter()
        try:
            response = super().request(verb, url, *args, **kwargs)
            status = f"{response.status_code // 100}xx"
            if response.status_code == 429:
                RATE_LIMITED.labels(self.broker).inc()
                log.warning("%s answered 429 to %s %s", self.broker, verb, response.url)
            return response
        finally:
            REQUEST_SECONDS.labels(self.broker, verb.upper(), status).observe(
                time.perf_counter() - start
            )


def limited_session(
    bucket: TokenBucket | None, *, timeout_s: float, max_wait_s: float, broker: str
) -> LimitedSession:
    return LimitedSession(bucket, timeout_s=timeout_s, max_wait_s=max_wait_s, broker=broker)
