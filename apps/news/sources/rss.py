"""RSS / Atom feeds: bytes fetched by :func:`bounded_get` (conditional GET), parsed by feedparser."""

from __future__ import annotations

import calendar
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
from django.conf import settings

from apps.news.sources.base import (
    FetchedItem,
    FetchResult,
    NewsSourceAdapter,
    SourceConfig,
    SourceConfigError,
    SourceParseError,
)
from apps.news.sources.http import HttpLimits, bounded_get

log = logging.getLogger(__name__)


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value: time.struct_time | None = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError):
                continue
    return None


# A document type declaration with an internal subset, or any entity declaration: the shape of
# entity-expansion bombs ("billion laughs") and external-entity reads. Refused before any parser
# sees the bytes. A bare ``<!DOCTYPE rss PUBLIC ...>`` (old RSS 0.91) is removed, not parsed.
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE[^>\[]*\[|ENTITY)", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE[^>\[]*>", re.IGNORECASE)


def _as_utf8(content: bytes) -> bytes:
    """UTF-16/32 documents re-encoded, so the declaration check sees their characters."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if content.startswith(bom):
            return content.decode(codec, "replace").encode("utf-8")
    if content[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return content.decode("utf-16-le" if content[0] else "utf-16-be", "replace").encode()
    return content


def guard_xml(content: bytes) -> bytes:
    """Refuse DTD internal subsets and entity declarations; drop a bare DOCTYPE line."""
    if not content.strip():
        raise SourceParseError("empty body: the server answered with no content")
    probe = _as_utf8(content)
    if _DECLARATION.search(probe):
        raise SourceParseError(
            "XML with a DTD or entity declarations refused before parsing (entity expansion)"
        )
    return _DOCTYPE.sub(b"", content, count=1) if probe is content else content


def parse_feed(content: bytes, *, content_type: str = "", limit: int = 200) -> FetchResult:
    """Items of an RSS/Atom document. Raises :class:`SourceParseError` when nothing usable is in it."""
    content = guard_xml(content)
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=True)
    warnings: list[str] = []
    if parsed.bozo:
        problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        if not parsed.entries:
            raise SourceParseError(f"not a readable feed ({problem})")
        warnings.append(f"feed parsed with errors, {len(parsed.entries)} item(s) kept ({problem})")
    elif not parsed.entries and not parsed.feed.get("title") and parsed.version == "":
        raise SourceParseError("not an RSS/Atom document (no feed element found)")
    if len(parsed.entries) > limit:
        warnings.append(
            f"feed had {len(parsed.entries):,} items; kept the first {limit:,} "
            "(NEWS_MAX_ITEMS_PER_POLL), the rest were dropped"
        )
    items = []
    for entry in parsed.entries[:limit]:
        title = entry.get("title") or ""
        if not title.strip():
            continue
        items.append(
            FetchedItem(
                title=title,
                url=entry.get("link") or "",
                summary=entry.get("summary") or "",
                published_at=_when(entry),
            )
        )
    return FetchResult(items=tuple(items), warnings=tuple(warnings))


class RssSource(NewsSourceAdapter):
    kind = "rss"

    def fetch(self, config: SourceConfig) -> FetchResult:
        if not config.url:
            raise SourceConfigError("RSS source has no URL")
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
        # Conditional GET: the server answers 304 and no body when nothing changed.
        if config.etag:
            headers["If-None-Match"] = config.etag
        if config.last_modified:
            headers["If-Modified-Since"] = config.last_modified
        body = bounded_get(config.url, limits=HttpLimits.from_settings(), headers=headers)
        if body.status == 304:
            return FetchResult(not_modified=True)
        result = parse_feed(
            body.content,
            content_type=body.headers.get("content-type", ""),
            limit=settings.NEWS_MAX_ITEMS_PER_POLL,
        )
        return FetchResult(
            items=result.items,
            warnings=result.warnings,
            etag=body.headers.get("etag", ""),
            last_modified=body.headers.get("last-modified", ""),
        )
