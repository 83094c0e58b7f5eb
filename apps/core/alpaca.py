"""The Alpaca SDK glue shared by the market-data source and the broker adapter.

Transport-level error translation (rate limits, server errors, unreachable) and stopping an
alpaca-py stream. Order-level errors (rejected, not found, duplicate id) are the broker adapter's
(``apps.execution.brokers.alpaca.mapping``).
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from alpaca.common.exceptions import APIError

from apps.core.clock import wall_now
from apps.core.errors import BrokerError, RateLimitedError, TransientBrokerError

log = logging.getLogger(__name__)


def _retry_after(response: requests.Response | None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date), else ``X-RateLimit-Reset``."""
    if response is None:
        return None
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(header) - wall_now()).total_seconds())
            except (TypeError, ValueError):
                log.debug("unreadable Retry-After %r; trying X-RateLimit-Reset", header)
    reset = response.headers.get("X-RateLimit-Reset")
    if reset and reset.isdigit():
        return max(0.0, int(reset) - wall_now().timestamp())
    return None


def api_error_message(exc: APIError) -> str:
    try:
        return f"{exc.code}: {exc.message}"
    except (ValueError, KeyError, TypeError):
        return str(exc)


def translate_error(exc: Exception) -> BrokerError:
    """alpaca-py / requests exceptions -> the typed errors (transport level)."""
    if isinstance(exc, BrokerError):
        return exc
    if isinstance(exc, APIError):
        status = exc.status_code or 0
        message = api_error_message(exc)
        if status == 429:
            return RateLimitedError(
                f"alpaca 429: {message}", retry_after_s=_retry_after(exc.response)
            )
        if status >= 500:
            return TransientBrokerError(f"alpaca {status}: {message}")
        return BrokerError(f"alpaca {status}: {message}")
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientBrokerError(f"alpaca unreachable: {type(exc).__name__}: {exc}")
    return BrokerError(f"alpaca: {type(exc).__name__}: {exc}")


def stop_stream(stream: Any) -> None:
    """Stop an alpaca-py stream now: flag it, then close its socket (its reader would otherwise
    notice the flag only after its 5 s receive timeout)."""
    loop = stream._loop
    if loop is None or not loop.is_running():
        return
    asyncio.run_coroutine_threadsafe(stream.stop_ws(), loop).result(timeout=5)
    asyncio.run_coroutine_threadsafe(stream.close(), loop).result(timeout=5)
