"""Reads of the news stage."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.news.models import Article, NewsSource
from apps.news.sources.base import SourceConfig


def source_is_due(source: NewsSource, *, now: datetime) -> bool:
    """Enabled, out of backoff, and its poll interval has passed since it was last polled."""
    if not source.enabled:
        return False
    if source.backoff_until and source.backoff_until > now:
        return False
    if source.last_polled_at is None:
        return True
    return source.last_polled_at + timedelta(seconds=source.poll_interval_s) <= now


def sources_due(*, now: datetime) -> list[NewsSource]:
    # A handful of rows: filtering in Python keeps the interval rule in one readable place.
    return [s for s in NewsSource.objects.filter(enabled=True) if source_is_due(s, now=now)]


def source_config(source: NewsSource) -> SourceConfig:
    return SourceConfig(
        name=source.name,
        kind=source.kind,
        url=source.url,
        subreddit=source.subreddit,
        account=source.account,
        etag=source.etag,
        last_modified=source.last_modified,
        cursor=source.cursor,
        options=dict(source.options or {}),
    )


def articles_existing(*, hashes: list[str], urls: list[str]) -> tuple[set[str], set[str]]:
    """Which of these content hashes and (non-empty) URLs are already stored."""
    known_hashes = set(
        Article.objects.filter(content_hash__in=hashes).values_list("content_hash", flat=True)
    )
    wanted = [u for u in urls if u]
    known_urls = set(Article.objects.filter(url__in=wanted).values_list("url", flat=True))
    return known_hashes, known_urls
