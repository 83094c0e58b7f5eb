"""Ingest, de-duplication, backoff and dispatch claims (real PostgreSQL and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.bus.names import Stream
from apps.core import codec
from apps.news.contracts import RawArticle
from apps.news.models import Article, NewsSource
from apps.news.services import (
    article_ingest,
    backoff_delay,
    source_poll,
    source_reset_backoff,
    sources_claim_due,
)
from apps.news.sources.base import FetchedItem
from apps.news.tests.conftest import metric
from apps.news.tests.standins import Response

pytestmark = pytest.mark.usefixtures("news_settings", "no_default_sources")

WHEN = datetime(2019, 7, 24, 14, 0, tzinfo=UTC)


def make_source(name: str = "Test feed", **kw) -> NewsSource:
    return NewsSource.objects.create(name=name, kind=kw.pop("kind", "rss"), **kw)


@pytest.mark.django_db(transaction=True)
def test_ingest_is_idempotent_and_publishes_once(redis_conn):
    source = make_source()
    items = [
        FetchedItem("Apple beats estimates", "https://example.com/a?utm_source=x", "", WHEN),
        FetchedItem("Tesla recalls cars", "https://example.com/b", "Recall of $TSLA", WHEN),
    ]

    first = article_ingest(source=source, items=items)
    second = article_ingest(source=source, items=items)

    assert first.stored == 2 and second.stored == 0 and second.duplicate_url == 2
    assert Article.objects.count() == 2
    entries = redis_conn.xrange(Stream.NEWS_RAW.value)
    assert len(entries) == 2
    tesla = codec.loads(entries[1][1][b"body"])
    assert isinstance(tesla, RawArticle)
    assert tesla.tickers == ("TSLA",) and tesla.published_at == WHEN


@pytest.mark.django_db
def test_dedup_by_normalised_url_and_by_content_hash_across_sources():
    yahoo, reuters = make_source("Yahoo"), make_source("Reuters")
    article_ingest(
        source=yahoo,
        items=[
            FetchedItem(
                "Fed holds rates", "https://www.example.com/fed/?utm_medium=rss#x", "", WHEN
            )
        ],
    )
    url_dups = metric("tradebot_news_dedup_skips_total", source="Reuters", reason="url")
    hash_dups = metric("tradebot_news_dedup_skips_total", source="Reuters", reason="content_hash")

    result = article_ingest(
        source=reuters,
        items=[
            # same link, different tracking params and case
            FetchedItem("Fed keeps rates", "HTTPS://EXAMPLE.com/fed?fbclid=1", "", WHEN),
            # same story (title) syndicated under another URL the same day
            FetchedItem(
                "FED holds  rates!", "https://other.example/story-9", "", WHEN + timedelta(hours=3)
            ),
            # the same headline on another day is a new article
            FetchedItem(
                "Fed holds rates", "https://other.example/story-10", "", WHEN + timedelta(days=1)
            ),
        ],
    )

    assert (result.stored, result.duplicate_url, result.duplicate_hash) == (1, 1, 1)
    assert metric("tradebot_news_dedup_skips_total", source="Reuters", reason="url") == url_dups + 1
    assert (
        metric("tradebot_news_dedup_skips_total", source="Reuters", reason="content_hash")
        == hash_dups + 1
    )


@pytest.mark.django_db
def test_duplicates_inside_one_batch_and_empty_titles():
    source = make_source()
    result = article_ingest(
        source=source,
        items=[
            FetchedItem("Same", "https://example.com/1", "", WHEN),
            FetchedItem("Same", "https://example.com/1", "", WHEN),
            FetchedItem("<script>only a script</script>", "https://example.com/2", "", WHEN),
            FetchedItem("   ", "", "", None),
        ],
    )
    assert (result.stored, result.duplicate_url, result.invalid) == (1, 1, 2)


@pytest.mark.django_db
def test_given_symbols_are_kept_and_merged_with_extracted_ones():
    source = make_source()
    article_ingest(
        source=source,
        items=[FetchedItem("Microsoft and $NVDA partner", tickers=("aapl",), published_at=WHEN)],
    )
    assert Article.objects.get().tickers == ["AAPL", "NVDA", "MSFT"]


@pytest.mark.parametrize(
    ("errors", "expected"),
    [(0, 0), (1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (50, 3600)],
)
def test_backoff_delay_doubles_up_to_the_cap(errors, expected):
    assert backoff_delay(errors, base_s=60, cap_s=3600) == expected


@pytest.mark.django_db
def test_errors_back_off_exponentially_and_success_resets(standin):
    state = {"fail": True}
    feed = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        b"<item><title>Ok</title></item></channel></rss>"
    )
    standin.route(
        "GET", "/flaky", lambda r: Response(500, b"boom") if state["fail"] else Response(200, feed)
    )
    source = make_source(url=standin.url("/flaky"), poll_interval_s=60)
    now = timezone.now()

    for n, delay in [(1, 60), (2, 120), (3, 240)]:
        source_poll(source_id=source.pk, now=now)
        source.refresh_from_db()
        assert source.consecutive_errors == n
        assert source.backoff_until == now + timedelta(seconds=delay)
        assert source.last_error.startswith("http: HTTP 500")

    # While backing off, the dispatcher leaves it alone; afterwards it is due again.
    assert source.pk not in sources_claim_due(now=now + timedelta(seconds=100))
    state["fail"] = False
    later = now + timedelta(seconds=241)
    assert source.pk in sources_claim_due(now=later)

    assert source_poll(source_id=source.pk, now=later).outcome == "ok"
    source.refresh_from_db()
    assert (source.consecutive_errors, source.backoff_until, source.last_error) == (0, None, "")


@pytest.mark.django_db
def test_claims_respect_interval_and_are_taken_once():
    now = timezone.now()
    due = make_source("due", poll_interval_s=60, last_polled_at=now - timedelta(seconds=61))
    fresh = make_source("fresh", poll_interval_s=60, last_polled_at=now - timedelta(seconds=10))
    never = make_source("never")
    make_source("off", enabled=False)

    assert sorted(sources_claim_due(now=now)) == sorted([due.pk, never.pk])
    # A second dispatcher at the same moment finds nothing left to claim.
    assert sources_claim_due(now=now) == []
    assert fresh.pk in sources_claim_due(now=now + timedelta(seconds=51))


@pytest.mark.django_db
def test_reset_backoff_makes_the_source_due_now():
    now = timezone.now()
    source = make_source(
        consecutive_errors=4,
        backoff_until=now + timedelta(hours=1),
        last_error="x",
        last_polled_at=now,
    )
    assert source_reset_backoff(source_ids=[source.pk]) == 1
    assert source.pk in sources_claim_due(now=now)


@pytest.mark.django_db
def test_disabled_source_is_not_polled_unless_forced(standin):
    source = make_source(enabled=False, url=standin.url("/missing"))
    assert source_poll(source_id=source.pk).outcome == "disabled"
    assert standin.requests == []
    assert source_poll(source_id=source.pk, force=True).outcome == "error"


@pytest.mark.django_db
def test_unknown_kind_and_missing_url_are_config_errors():
    weird = make_source("weird", kind="telex")
    blank = make_source("blank")
    assert source_poll(source_id=weird.pk).error == "config: unknown source kind 'telex'"
    assert source_poll(source_id=blank.pk).error == "config: RSS source has no URL"


@pytest.mark.django_db
def test_polling_a_deleted_source_is_dropped_quietly():
    assert source_poll(source_id=987654).outcome == "missing"
