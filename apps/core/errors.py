"""Errors of calls to the broker vendor's APIs, trading and market data alike.

The broker port (``apps.execution.brokers.base``) raises these, and so do the market-data source and
the shared rate limiter (``apps.core.ratelimit``), which is why they live below both.
"""

from __future__ import annotations


class BrokerError(Exception):
    """Base of broker errors. ``retryable`` says whether trying again may succeed."""

    retryable: bool = False


class TransientBrokerError(BrokerError):
    """Timeouts, 5xx, connection drops: safe to retry with backoff."""

    retryable = True


class RateLimitedError(TransientBrokerError):
    def __init__(self, message: str = "rate limited", retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
