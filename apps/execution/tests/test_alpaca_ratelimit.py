"""The shared token bucket (Redis + Lua) and the 429 retry policy. Counts, never timings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import pytest
from django.conf import settings

from apps.core.ratelimit import THROTTLED, ThrottledError, TokenBucket, call_with_retry
from apps.execution.brokers.base import RateLimitedError, TransientBrokerError
from conftest import ROOT

# A refill this slow adds no token while a test runs: grants == capacity exactly.
FROZEN = 1e-6


def _bucket(
    redis_conn, capacity: int, refill: float = FROZEN, key: str | None = None
) -> TokenBucket:
    return TokenBucket(
        redis_conn, key or f"test:bucket:{uuid.uuid4()}", capacity=capacity, refill_per_s=refill
    )


def test_bucket_grants_exactly_its_capacity(redis_conn):
    bucket = _bucket(redis_conn, 5)
    results = [bucket.try_acquire()[0] for _ in range(8)]
    assert results == [True] * 5 + [False] * 3
    granted, wait_s = bucket.try_acquire()
    assert not granted and wait_s > 0


def test_bucket_is_shared_by_threads(redis_conn):
    key = f"test:bucket:{uuid.uuid4()}"
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        from apps.core.redis_client import redis_client

        bucket = _bucket(redis_client(), 20, key=key)  # each thread its own client
        for _ in range(15):
            ok, _ = bucket.try_acquire()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 60
    assert sum(granted) == 20


CHILD = """
import sys, redis
from apps.core.ratelimit import ThrottledError, TokenBucket
bucket = TokenBucket(redis.Redis.from_url(sys.argv[1]), sys.argv[2], capacity=25, refill_per_s=1e-6)
ok = 0
for _ in range(20):
    try:
        bucket.acquire(max_wait_s=0)
        ok += 1
    except ThrottledError:
        continue
print(ok)
"""


def test_bucket_is_shared_by_processes(redis_conn):
    key = f"test:bucket:{uuid.uuid4()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, settings.REDIS_URL, key],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    counts = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sum(counts) == 25  # 40 attempts, one budget of 25 across both processes
    assert all(c > 0 for c in counts) or sorted(counts) == [5, 20]


def test_blocking_acquire_waits_for_a_refill(redis_conn):
    bucket = _bucket(redis_conn, 1, refill=2.0)  # a token every 0.5 s
    before = THROTTLED.labels(bucket.key, "waited")._value.get()
    bucket.acquire(max_wait_s=5)
    grant = bucket.acquire(max_wait_s=5)  # the bucket is empty: this one has to wait
    assert grant.waited_s > 0
    assert THROTTLED.labels(bucket.key, "waited")._value.get() == before + 1


def test_acquire_refuses_when_the_wait_exceeds_the_limit(redis_conn):
    bucket = _bucket(redis_conn, 1)
    bucket.acquire(max_wait_s=0)
    before = THROTTLED.labels(bucket.key, "refused")._value.get()
    with pytest.raises(ThrottledError) as info:
        bucket.acquire(max_wait_s=1)
    assert info.value.retry_after_s is not None and info.value.retry_after_s > 1
    assert THROTTLED.labels(bucket.key, "refused")._value.get() == before + 1


def test_per_minute_bucket_matches_the_setting(redis_conn):
    bucket = TokenBucket.per_minute(
        redis_conn, f"test:{uuid.uuid4()}", settings.ALPACA_RATE_LIMIT_PER_MIN
    )
    assert bucket.capacity == 200 and bucket.refill_per_s == pytest.approx(200 / 60)


def _failing(errors: list[Exception]):
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_retry_honours_retry_after():
    sleeps: list[float] = []
    fn, calls = _failing([RateLimitedError(retry_after_s=2), RateLimitedError(retry_after_s=3)])
    assert call_with_retry(fn, budget_s=60, sleep=sleeps.append) == "ok"
    assert calls["n"] == 3 and sleeps == [2, 3]


def test_retry_gives_up_when_the_wait_would_break_the_budget():
    sleeps: list[float] = []
    fn, calls = _failing([RateLimitedError(retry_after_s=30)])
    with pytest.raises(RateLimitedError):
        call_with_retry(fn, budget_s=10, sleep=sleeps.append)
    assert calls["n"] == 1 and sleeps == []


def test_retry_backs_off_without_retry_after_and_ignores_other_errors():
    sleeps: list[float] = []
    fn, calls = _failing([RateLimitedError(), RateLimitedError()])
    assert call_with_retry(fn, budget_s=60, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)
    fn, calls = _failing([TransientBrokerError("503")])
    with pytest.raises(TransientBrokerError):  # only 429s unless asked
        call_with_retry(fn, budget_s=60, sleep=sleeps.append)
    assert calls["n"] == 1
