"""The one Redis client every layer shares (the bus, market caches, rate limits, health checks)."""

from __future__ import annotations

import threading

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

_local = threading.local()


def redis_client() -> redis.Redis:
    """A per-thread client that retries on dropped connections (with backoff) instead of failing."""
    client: redis.Redis | None = getattr(_local, "client", None)
    url = settings.REDIS_URL
    if client is None or getattr(_local, "url", None) != url:
        client = redis.Redis.from_url(
            url,
            decode_responses=False,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=8),
            retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        )
        _local.client, _local.url = client, url
    return client


def text(value: object) -> str:
    """A reply of the client (``decode_responses=False``: bytes) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
