"""Bounded HTTP GET for feeds: timeouts, an overall deadline, a size cap, conditional GET.

The body is streamed and cut off as soon as it passes the cap, so a 50 MB (or endless) feed costs
at most ``max_bytes`` of memory; a server that drips bytes slowly hits the overall deadline even
though each read is within the per-read timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from apps.news.sources.base import (
    SourceHTTPError,
    SourceNetworkError,
    SourceTimeout,
    SourceTooLarge,
)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    timeout_s: float
    deadline_s: float
    max_bytes: int
    user_agent: str

    @classmethod
    def from_settings(cls) -> HttpLimits:
        return cls(
            timeout_s=settings.NEWS_HTTP_TIMEOUT_S,
            deadline_s=settings.NEWS_FETCH_DEADLINE_S,
            max_bytes=settings.NEWS_MAX_FEED_BYTES,
            user_agent=settings.NEWS_HTTP_USER_AGENT,
        )


@dataclass(frozen=True, slots=True)
class HttpBody:
    status: int
    content: bytes
    headers: httpx.Headers


def bounded_get(
    url: str,
    *,
    limits: HttpLimits,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> HttpBody:
    """GET ``url``; 304 comes back with an empty body. Raises typed ``SourceError``s."""
    request_headers = {"User-Agent": limits.user_agent, **(headers or {})}
    timeout = httpx.Timeout(limits.timeout_s)
    started = time.monotonic()
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url, headers=request_headers, params=params) as response,
        ):
            if response.status_code == 304:
                return HttpBody(304, b"", response.headers)
            if response.status_code >= 400:
                raise SourceHTTPError(
                    f"HTTP {response.status_code} {response.reason_phrase} from {response.url}",
                    status=response.status_code,
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise SourceTooLarge(
                    f"body of {int(declared):,} bytes declared, over the {limits.max_bytes:,} byte cap"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise SourceTooLarge(
                        f"body passed the {limits.max_bytes:,} byte cap; download cut off"
                    )
                if time.monotonic() - started > limits.deadline_s:
                    raise SourceTimeout(
                        f"download still running after the {limits.deadline_s:g}s deadline"
                    )
                chunks.append(chunk)
            return HttpBody(response.status_code, b"".join(chunks), response.headers)
    except httpx.TimeoutException as exc:
        raise SourceTimeout(
            f"{type(exc).__name__} after {time.monotonic() - started:.1f}s "
            f"(timeout {limits.timeout_s:g}s) fetching {url}"
        ) from exc
    except httpx.HTTPError as exc:
        raise SourceNetworkError(f"{type(exc).__name__}: {exc} fetching {url}") from exc
