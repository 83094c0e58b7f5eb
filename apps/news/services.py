"""Writes of the news stage: store articles (and publish them), poll sources, back off on errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from opentelemetry import trace

from apps.bus import outbox
from apps.bus.names import Stream
from apps.core.clock import wall_now, wall_time
from apps.news import metrics
from apps.news.contracts import RawArticle
from apps.news.models import Article, NewsSource
from apps.news.selectors import articles_existing, source_config, sources_due
from apps.news.sources.base import (
    FetchedItem,
    FetchResult,
    SourceError,
    SourceExpired,
    SourceSkipped,
    adapter_for,
)
from apps.news.text import TITLE_MAX, clean_text, content_hash, normalise_url
from apps.news.tickers import TickerExtractor, default_extractor

log = logging.getLogger(__name__)
tracer = trace.get_tracer("tradebot.news")

MAX_TICKERS = 10
INGEST_CHUNK = 500


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int = 0
    duplicate_url: int = 0
    duplicate_hash: int = 0
    invalid: int = 0
    # Items dated implausibly far after the fetch, stored with the fetch time instead.
    future_dated: int = 0

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(
            self.stored + other.stored,
            self.duplicate_url + other.duplicate_url,
            self.duplicate_hash + other.duplicate_hash,
            self.invalid + other.invalid,
            self.future_dated + other.future_dated,
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source: str
    outcome: str  # ok | not_modified | error | skipped | disabled | missing
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str = ""


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _prepare(
    item: FetchedItem, *, extractor: TickerExtractor, fetched_at: datetime | None = None
) -> Article | None:
    title = clean_text(item.title, limit=TITLE_MAX)
    if not title:
        return None
    summary = clean_text(item.summary)
    published_at = _aware(item.published_at)
    # The hash keeps the date as sent, so a re-poll of the same item is still a duplicate.
    hashed_at = published_at
    if (
        published_at is not None
        and fetched_at is not None
        and published_at > fetched_at + timedelta(seconds=settings.NEWS_FUTURE_TOLERANCE_S)
    ):
        published_at = fetched_at  # an item "from 2099" would sit at the top of every view
    given = [t.strip().upper() for t in item.tickers if t and len(t.strip()) <= 12]
    found = extractor.extract(f"{title}\n{summary}")
    tickers = list(dict.fromkeys([*given, *found]))[:MAX_TICKERS]
    return Article(
        url=normalise_url(item.url),
        title=title,
        summary=summary,
        published_at=published_at,
        content_hash=content_hash(title=title, summary=summary, published_at=hashed_at),
        tickers=tickers,
    )


def _chunks(items: Iterable[FetchedItem], size: int) -> Iterator[list[FetchedItem]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _insert(rows: list[Article]) -> list[Article]:
    """Insert rows; a concurrent insert of the same article (unique violation) is a duplicate."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            return Article.objects.bulk_create(rows)
    except IntegrityError:
        stored = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.pk = None
                    row.save(force_insert=True)
                stored.append(row)
            except IntegrityError:
                continue
        return stored


def article_ingest(
    *,
    source: NewsSource,
    items: Iterable[FetchedItem],
    fetched_at: datetime | None = None,
    publish: bool = True,
    extractor: TickerExtractor | None = None,
) -> IngestResult:
    """Store new articles of ``source`` and publish each as a ``RawArticle`` to ``news:raw``.

    Idempotent: an item whose normalised URL or content hash is already stored is skipped (and
    counted). Rows and their outbox messages commit together, one transaction per chunk.
    """
    fetched_at = fetched_at or wall_now()
    extractor = extractor or default_extractor()
    total = IngestResult()
    for chunk in _chunks(items, INGEST_CHUNK):
        invalid = dup_url = dup_hash = future = 0
        candidates: list[Article] = []
        for item in chunk:
            row = _prepare(item, extractor=extractor, fetched_at=fetched_at)
            if row is None:
                invalid += 1
            else:
                if row.published_at != _aware(item.published_at):
                    future += 1
                candidates.append(row)
        known_hashes, known_urls = articles_existing(
            hashes=[r.content_hash for r in candidates], urls=[r.url for r in candidates]
        )
        fresh: list[Article] = []
        for row in candidates:
            if row.url and row.url in known_urls:
                dup_url += 1
            elif row.content_hash in known_hashes:
                dup_hash += 1
            else:
                # Also de-duplicates within the chunk.
                known_hashes.add(row.content_hash)
                if row.url:
                    known_urls.add(row.url)
                row.source = source
                row.fetched_at = fetched_at
                fresh.append(row)
        with transaction.atomic():
            stored = _insert(fresh)
            dup_hash += len(fresh) - len(stored)
            if publish and stored:
                outbox.publish_many(
                    [
                        (Stream.NEWS_RAW.value, raw_article(row, source=source), None)
                        for row in stored
                    ],
                    traces=[_article_trace(row, source) for row in stored],
                )
        if dup_url:
            metrics.DEDUP_SKIPS.labels(source.name, "url").inc(dup_url)
        if dup_hash:
            metrics.DEDUP_SKIPS.labels(source.name, "content_hash").inc(dup_hash)
        metrics.ARTICLES_STORED.labels(source.name).inc(len(stored))
        total = total + IngestResult(len(stored), dup_url, dup_hash, invalid, future)
    return total


def _article_trace(article: Article, source: NewsSource) -> dict[str, str]:
    """One span per stored article (a child of the poll's span, if any): the start of the trace
    that follows the article through sentiment, signals, the order and its fill."""
    span = tracer.start_span(
        "news article",
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "tradebot.article.id": article.pk,
            "tradebot.news.source": source.name,
            "tradebot.tickers": ",".join(article.tickers or []),
        },
    )
    try:
        return outbox.trace_carrier(span)
    finally:
        span.end()


def raw_article(article: Article, *, source: NewsSource) -> RawArticle:
    return RawArticle(
        article_id=article.pk,
        source=source.name,
        url=article.url,
        title=article.title,
        content_hash=article.content_hash,
        fetched_at=article.fetched_at,
        published_at=article.published_at,
        summary=article.summary,
        tickers=tuple(article.tickers),
    )


def backoff_delay(errors: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait after ``errors`` consecutive failures: base, 2x, 4x, ... up to ``cap_s``."""
    if errors <= 0:
        return 0.0
    return float(min(cap_s, base_s * 2 ** min(errors - 1, 30)))


_skip_logged: set[tuple[str, str]] = set()


def _record_skip(source: NewsSource, reason: str, *, now: datetime) -> PollOutcome:
    metrics.POLLS.labels(source.name, "skipped").inc()
    key = (source.name, reason)
    # Once per process at WARNING: a source without credentials is skipped on every poll.
    level = logging.DEBUG if key in _skip_logged else logging.WARNING
    _skip_logged.add(key)
    log.log(level, "news: %s skipped: %s", source.name, reason)
    NewsSource.objects.filter(pk=source.pk).update(
        last_polled_at=now, last_error=f"skipped: {reason}"[:2000]
    )
    return PollOutcome(source.name, "skipped", error=reason)


def _record_error(source: NewsSource, kind: str, message: str, *, now: datetime) -> PollOutcome:
    """Count the failure and back off; ``now`` is when the poll *ended* (a poll that hung for a
    minute backs off from the end of that minute, not from its start)."""
    errors = source.consecutive_errors + 1
    delay = backoff_delay(
        errors, base_s=settings.NEWS_BACKOFF_BASE_S, cap_s=settings.NEWS_BACKOFF_MAX_S
    )
    metrics.SOURCE_ERRORS.labels(source.name, kind).inc()
    metrics.POLLS.labels(source.name, "error").inc()
    log.warning(
        "news: %s failed (%s, %d in a row), backing off %.0fs: %s",
        source.name,
        kind,
        errors,
        delay,
        message,
    )
    NewsSource.objects.filter(pk=source.pk).update(
        last_polled_at=now,
        consecutive_errors=F("consecutive_errors") + 1,
        backoff_until=now + timedelta(seconds=delay),
        last_error=f"{kind}: {message}"[:2000],
    )
    return PollOutcome(source.name, "error", error=f"{kind}: {message}")


def _record_success(source: NewsSource, result: FetchResult, *, now: datetime) -> PollOutcome:
    warnings = list(result.warnings)
    changes: dict[str, object] = {
        "last_polled_at": now,
        "last_success_at": now,
        "consecutive_errors": 0,
        "backoff_until": None,
    }
    if result.etag is not None:
        changes["etag"] = result.etag[:300]
    if result.last_modified is not None:
        changes["last_modified"] = result.last_modified[:100]
    if result.cursor is not None:
        changes["cursor"] = result.cursor[:200]
    if result.not_modified:
        _warn(source, warnings)
        metrics.POLLS.labels(source.name, "not_modified").inc()
        NewsSource.objects.filter(pk=source.pk).update(
            last_error="; ".join(warnings)[:2000], **changes
        )
        log.info("news: %s not modified", source.name)
        return PollOutcome(source.name, "not_modified")
    metrics.ARTICLES_FETCHED.labels(source.name).inc(len(result.items))
    with transaction.atomic():
        ingested = article_ingest(source=source, items=result.items, fetched_at=now)
        if ingested.future_dated:
            warnings.append(
                f"{ingested.future_dated} item(s) dated more than "
                f"{settings.NEWS_FUTURE_TOLERANCE_S:g}s after the fetch; stored with the fetch time"
            )
        _warn(source, warnings)
        # Saved with the articles: a crash in between would re-fetch, and dedup absorbs that.
        NewsSource.objects.filter(pk=source.pk).update(
            last_error="; ".join(warnings)[:2000], **changes
        )
    metrics.POLLS.labels(source.name, "ok").inc()
    duplicates = ingested.duplicate_url + ingested.duplicate_hash
    log.info(
        "news: %s fetched %d, stored %d, duplicates %d",
        source.name,
        len(result.items),
        ingested.stored,
        duplicates,
    )
    return PollOutcome(source.name, "ok", len(result.items), ingested.stored, duplicates)


def _warn(source: NewsSource, warnings: list[str]) -> None:
    if warnings:
        metrics.SOURCE_WARNINGS.labels(source.name).inc(len(warnings))
        log.warning("news: %s degraded: %s", source.name, "; ".join(warnings))


def source_poll(
    *,
    source_id: int,
    force: bool = False,
    now: datetime | None = None,
    queued_at: float | None = None,
) -> PollOutcome:
    """Poll one source, store what is new, and update its conditional-GET / backoff state.

    Never raises for a source's failure: the error is stored on the source, counted, logged, and
    the source backs off exponentially. Disabled sources are left alone unless ``force``.
    """
    source = NewsSource.objects.filter(pk=source_id).first()
    if source is None:  # deleted in the admin after the poll was queued
        log.info("news: source %s no longer exists; poll dropped", source_id)
        return PollOutcome(f"#{source_id}", "missing")
    # A caller's ``now`` freezes the clock (tests, replays); else the real clock, read again at
    # the end so that backoff counts from the end of the poll.
    frozen = now

    def ended() -> datetime:
        return frozen or wall_now()

    now = now or wall_now()
    if not source.enabled and not force:
        return PollOutcome(source.name, "disabled")
    if queued_at is not None:
        waited = wall_time() - queued_at
        if waited > settings.NEWS_POLL_EXPIRES_S:
            # Recorded, not silently dropped: the source backs off from now and says why.
            return _record_error(
                source,
                SourceExpired.kind,
                f"poll waited {waited:.0f}s in the queue (expiry {settings.NEWS_POLL_EXPIRES_S:g}s):"
                " the news worker is saturated",
                now=now,
            )
    started = time.monotonic()
    try:
        result = adapter_for(source.kind).fetch(source_config(source))
    except SourceSkipped as exc:
        return _record_skip(source, str(exc), now=ended())
    except SourceError as exc:
        return _record_error(source, exc.kind, str(exc), now=ended())
    except Exception as exc:  # a broken adapter must not stop the other sources
        log.exception("news: %s crashed in its adapter", source.name)
        return _record_error(source, "other", f"{type(exc).__name__}: {exc}", now=ended())
    finally:
        metrics.FETCH_SECONDS.labels(source.name).observe(time.monotonic() - started)
    return _record_success(source, result, now=ended())


def sources_claim_due(*, now: datetime | None = None) -> list[int]:
    """Claim every due source for one poll (conditional update, so two beats never double-poll).

    Returns the ids claimed; the caller queues one poll task per id.
    """
    now = now or wall_now()
    claimed = []
    for source in sources_due(now=now):
        rows = NewsSource.objects.filter(pk=source.pk, last_polled_at=source.last_polled_at)
        if source.last_polled_at is None:
            rows = NewsSource.objects.filter(pk=source.pk, last_polled_at__isnull=True)
        if rows.update(last_polled_at=now) == 1:
            claimed.append(source.pk)
    return claimed


def source_reset_backoff(*, source_ids: Iterable[int]) -> int:
    """Clear error state so the sources are polled at the next dispatch. Returns rows changed."""
    return NewsSource.objects.filter(pk__in=list(source_ids)).update(
        consecutive_errors=0, backoff_until=None, last_error="", last_polled_at=None
    )
