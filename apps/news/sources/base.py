"""The news source port: a configured source in, fetched items out.

Adapters are small and do no database work: the poll service (``apps.news.services``) gives them a
frozen :class:`SourceConfig`, gets a :class:`FetchResult` back, stores the items and saves the new
conditional-GET / cursor state. Every failure is raised as a :class:`SourceError` with a ``kind``
(timeout, http, too_large, parse, auth, network, config, forbidden, encoding, expired) so the
service can count it, back off and carry on with the other sources.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """What an adapter needs to know about its source (a snapshot of the ``NewsSource`` row)."""

    name: str
    kind: str
    url: str = ""
    subreddit: str = ""
    account: str = ""
    etag: str = ""
    last_modified: str = ""
    cursor: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchedItem:
    """One item as a source delivered it (raw text; cleaning happens at ingest)."""

    title: str
    url: str = ""
    summary: str = ""
    published_at: datetime | None = None
    # Symbols the source itself attached (Alpaca ``symbols``, a data set's ticker column).
    tickers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchResult:
    items: tuple[FetchedItem, ...] = ()
    not_modified: bool = False
    # New state to save on the source; ``None`` keeps the stored value.
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    # Non-fatal problems (a feed parsed with recoverable errors): logged and counted, items kept.
    warnings: tuple[str, ...] = ()


class SourceError(Exception):
    """A poll failed. ``kind`` labels the metric; the message is stored on the source."""

    kind: ClassVar[str] = "other"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind:
            self.kind = kind  # type: ignore[misc]


class SourceTimeout(SourceError):
    kind = "timeout"


class SourceTooLarge(SourceError):
    kind = "too_large"


class SourceHTTPError(SourceError):
    kind = "http"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SourceParseError(SourceError):
    kind = "parse"


class SourceNetworkError(SourceError):
    kind = "network"


class SourceAuthError(SourceError):
    kind = "auth"


class SourceConfigError(SourceError):
    kind = "config"


class SourceForbiddenAddress(SourceError):
    """A URL or redirect that points at a scheme or an address a source may not reach (SSRF)."""

    kind = "forbidden"


class SourceBadEncoding(SourceError):
    """A body in stacked or unknown content encodings (a decompression bomb's shape)."""

    kind = "encoding"


class SourceExpired(SourceError):
    """The poll waited in the queue past its expiry (a saturated news worker)."""

    kind = "expired"


class SourceSkipped(Exception):  # not an error: the source is off by configuration
    """The source cannot run here (no credentials, optional source off). Logged, not backed off."""


class NewsSourceAdapter(ABC):
    """One kind of source. Subclasses set ``kind`` and implement :meth:`fetch`."""

    kind: ClassVar[str]

    @abstractmethod
    def fetch(self, config: SourceConfig) -> FetchResult:
        """Fetch what is new for ``config``. Raise :class:`SourceError` or :class:`SourceSkipped`."""


# kind -> "module:Class", imported on first use so a missing optional client only hurts its kind.
ADAPTERS: dict[str, str] = {
    "rss": "apps.news.sources.rss:RssSource",
    "reddit": "apps.news.sources.reddit:RedditSource",
    "x": "apps.news.sources.x:XSource",
    "alpaca": "apps.news.sources.alpaca_news:AlpacaNewsSource",
    "replay": "apps.news.sources.replay:ReplaySource",
}


def adapter_for(kind: str) -> NewsSourceAdapter:
    """A new adapter instance for ``kind`` (raises :class:`SourceConfigError` for unknown kinds)."""
    try:
        module_name, _, class_name = ADAPTERS[kind].partition(":")
    except KeyError:
        raise SourceConfigError(f"unknown source kind {kind!r}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter: NewsSourceAdapter = cls()
    return adapter
