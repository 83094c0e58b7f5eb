"""RSS through the real httpx + feedparser path against a local server serving the real samples."""

from __future__ import annotations

import pytest

from apps.bus.names import Stream
from apps.core import codec
from apps.news.contracts import RawArticle
from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.tests.conftest import metric, requires_shared_data
from apps.news.tests.standins import (
    edgar_atom,
    feed_handler,
    hanging,
    huge_feed,
    last_modified_only,
    rss_sample,
)

pytestmark = [requires_shared_data, pytest.mark.usefixtures("news_settings", "no_default_sources")]

CNBC = "cnbc_finance_rss_snapshot_2019-07-24.xml"
YAHOO = "yahoo_finance_rssindex_2018-09-20.xml"


def rss_source(standin, path: str, name: str | None = None) -> NewsSource:
    return NewsSource.objects.create(
        name=name or path, kind=NewsSource.Kind.RSS, url=standin.url(path), poll_interval_s=60
    )


@pytest.mark.django_db(transaction=True)
def test_cnbc_feed_is_stored_published_and_conditional_get_returns_304(standin, redis_conn):
    standin.route("GET", "/cnbc.xml", feed_handler(rss_sample(CNBC)))
    source = rss_source(standin, "/cnbc.xml", "CNBC")

    first = source_poll(source_id=source.pk)

    assert (first.outcome, first.fetched, first.stored) == ("ok", 30, 30)
    source.refresh_from_db()
    assert source.etag.startswith('"') and source.last_modified.endswith("GMT")
    assert source.consecutive_errors == 0 and source.last_success_at is not None
    movers = Article.objects.get(
        title__startswith="Stocks making the biggest moves after hours: Facebook"
    )
    assert movers.tickers[:4] == ["FB", "AMZN", "SNAP", "CMG"]
    assert movers.published_at is not None and movers.url.startswith("https://cnbc.com/")
    # Every stored article went out on news:raw as a RawArticle v1, after commit.
    entries = redis_conn.xrange(Stream.NEWS_RAW.value)
    assert len(entries) == 30
    raw = codec.loads(entries[0][1][b"body"])
    assert isinstance(raw, RawArticle) and raw.source == "CNBC"
    assert Article.objects.filter(pk=raw.article_id, content_hash=raw.content_hash).exists()

    before = metric("tradebot_news_polls_total", source="CNBC", outcome="not_modified")
    second = source_poll(source_id=source.pk)

    assert second.outcome == "not_modified"
    assert standin.requests[-1].headers["if-none-match"] == source.etag
    assert metric("tradebot_news_polls_total", source="CNBC", outcome="not_modified") == before + 1
    assert Article.objects.count() == 30
    assert len(redis_conn.xrange(Stream.NEWS_RAW.value)) == 30


@pytest.mark.django_db
def test_yahoo_feed_html_descriptions_become_plain_text(standin):
    standin.route("GET", "/yahoo.xml", feed_handler(rss_sample(YAHOO)))
    source = rss_source(standin, "/yahoo.xml")

    outcome = source_poll(source_id=source.pk)

    assert (outcome.outcome, outcome.fetched) == ("ok", 50)
    assert outcome.stored == 50
    assert not Article.objects.filter(summary__contains="<").exists()
    assert not Article.objects.filter(title__contains="&apos;").exists()
    nike = Article.objects.get(title__startswith="Nike")
    assert nike.tickers == ["NKE"]


@pytest.mark.django_db
def test_feed_that_changed_is_refetched_when_etag_differs(standin):
    standin.route("GET", "/cnbc.xml", feed_handler(rss_sample(CNBC)))
    source = rss_source(standin, "/cnbc.xml")
    source_poll(source_id=source.pk)
    # The publisher updates the feed: new ETag, three days of new items, overlapping ones deduped.
    standin.route(
        "GET", "/cnbc.xml", feed_handler(rss_sample("cnbc_finance_rss_snapshot_2019-07-25.xml"))
    )

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "ok"
    assert outcome.fetched == 30
    assert outcome.duplicates > 0 and outcome.stored > 0
    assert outcome.stored + outcome.duplicates == 30


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_broken_xml_is_a_parse_error_with_backoff(standin):
    standin.route(
        "GET",
        "/broken.xml",
        lambda r: __import__("apps.news.tests.standins", fromlist=["Response"]).Response(
            200, b"<?xml version='1.0'?>\x00\x01<<rss <<channel>>", {"Content-Type": "text/xml"}
        ),
    )
    source = rss_source(standin, "/broken.xml", "Broken")
    errors = metric("tradebot_news_source_errors_total", source="Broken", kind="parse")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and outcome.error.startswith("parse: not a readable feed")
    source.refresh_from_db()
    assert source.consecutive_errors == 1
    assert source.backoff_until is not None and source.last_error.startswith("parse:")
    assert metric("tradebot_news_source_errors_total", source="Broken", kind="parse") == errors + 1
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_html_page_instead_of_feed_is_a_parse_error(standin):
    from apps.news.tests.standins import Response

    standin.route(
        "GET",
        "/portal",
        lambda r: Response(200, b"<html><body><h1>Sign in to Wi-Fi</h1></body></html>"),
    )
    source = rss_source(standin, "/portal")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and "not an RSS/Atom document" in outcome.error


@pytest.mark.django_db
def test_truncated_feed_keeps_salvaged_items_and_counts_a_warning(standin):
    body = rss_sample(CNBC)
    standin.route("GET", "/cut.xml", feed_handler(body[: len(body) // 2]))
    source = rss_source(standin, "/cut.xml", "Cut")
    warnings = metric("tradebot_news_source_warnings_total", source="Cut")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "ok" and 0 < outcome.stored < 30
    source.refresh_from_db()
    assert "feed parsed with errors" in source.last_error and source.consecutive_errors == 0
    assert metric("tradebot_news_source_warnings_total", source="Cut") == warnings + 1


@pytest.mark.django_db
def test_latin1_bytes_declared_utf8_are_decoded(standin):
    text = rss_sample(CNBC).decode("utf-8").replace("Stocks making", "Café Stocks making")
    standin.route(
        "GET",
        "/latin1.xml",
        feed_handler(
            text.encode("latin-1", "replace"), content_type="application/rss+xml; charset=utf-8"
        ),
    )
    source = rss_source(standin, "/latin1.xml")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "ok" and outcome.stored == 30
    expected = text.count("<title>Café Stocks making")
    assert expected > 0
    assert Article.objects.filter(title__startswith="Café Stocks making").count() == expected
    assert not Article.objects.filter(title__contains="\ufffd").exists()


@pytest.mark.django_db
def test_script_tags_in_titles_and_summaries_are_stripped(standin):
    feed = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>
<item><title>&lt;script&gt;alert('title')&lt;/script&gt;Apple beats estimates</title>
<link>https://example.com/a?utm_source=rss</link>
<description><![CDATA[<p>Shares <b>rose</b></p><script>document.cookie</script>
<img src=x onerror=alert(1)>]]></description>
</item></channel></rss>"""
    standin.route("GET", "/xss.xml", feed_handler(feed))
    source = rss_source(standin, "/xss.xml")

    assert source_poll(source_id=source.pk).stored == 1

    article = Article.objects.get()
    assert article.title == "Apple beats estimates"
    assert article.summary == "Shares rose"
    assert article.url == "https://example.com/a"
    assert article.tickers == ["AAPL"]


@pytest.mark.django_db
def test_50mb_feed_is_cut_off_at_the_cap(standin):
    standin.route("GET", "/huge.xml", huge_feed(50 * 1024 * 1024))
    source = rss_source(standin, "/huge.xml", "Huge")
    errors = metric("tradebot_news_source_errors_total", source="Huge", kind="too_large")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error"
    assert outcome.error.startswith("too_large: body passed the 2,097,152 byte cap")
    assert (
        metric("tradebot_news_source_errors_total", source="Huge", kind="too_large") == errors + 1
    )
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_declared_oversize_body_is_refused_before_download(standin, news_settings):
    news_settings.NEWS_MAX_FEED_BYTES = 1000
    standin.route("GET", "/big.xml", feed_handler(rss_sample(YAHOO)))
    source = rss_source(standin, "/big.xml")

    outcome = source_poll(source_id=source.pk)

    assert outcome.error.startswith("too_large: body of 111,827 bytes declared")


@pytest.mark.django_db
def test_hanging_source_times_out_with_a_clear_error(standin):
    standin.route("GET", "/hang.xml", hanging(standin))
    source = rss_source(standin, "/hang.xml", "Hang")
    errors = metric("tradebot_news_source_errors_total", source="Hang", kind="timeout")
    latency = metric("tradebot_news_fetch_seconds_count", source="Hang")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and outcome.error.startswith("timeout: ReadTimeout")
    assert metric("tradebot_news_source_errors_total", source="Hang", kind="timeout") == errors + 1
    assert metric("tradebot_news_fetch_seconds_count", source="Hang") == latency + 1


@pytest.mark.django_db
def test_http_error_and_unreachable_host_are_errors(standin):
    from apps.news.tests.standins import Response

    standin.route("GET", "/gone", lambda r: Response(503, b"maintenance"))
    gone = rss_source(standin, "/gone", "Gone")
    dead = NewsSource.objects.create(name="Dead", kind="rss", url="http://127.0.0.1:9/feed")

    assert source_poll(source_id=gone.pk).error == (
        f"http: HTTP 503 Service Unavailable from {standin.url('/gone')}"
    )
    assert source_poll(source_id=dead.pk).error.startswith("network: ConnectError")


@pytest.mark.django_db
def test_sec_edgar_atom_feed_maps_ciks_to_tickers(standin):
    standin.route("GET", "/edgar", feed_handler(edgar_atom(), content_type="application/atom+xml"))
    source = rss_source(standin, "/edgar", "SEC EDGAR")

    outcome = source_poll(source_id=source.pk)

    assert (outcome.outcome, outcome.stored) == ("ok", 10)
    novavax = Article.objects.get(title="8-K - NOVAVAX INC (0001000694) (Filer)")
    assert novavax.tickers == ["NVAX"]
    assert novavax.url.startswith("https://sec.gov/Archives/edgar/data/1000694/")
    assert novavax.summary.startswith("Filed: 2018-12-31 AccNo: 0001144204-18-066755")
    assert novavax.published_at is not None and novavax.published_at.isoformat().startswith(
        "2018-12-31T22:"
    )
    schein = Article.objects.get(title__startswith="4 - HENRY SCHEIN")
    assert schein.tickers == ["HSIC"]


@pytest.mark.django_db
def test_conditional_get_by_last_modified_alone(standin):
    standin.route("GET", "/lm.xml", last_modified_only(rss_sample(CNBC)))
    source = rss_source(standin, "/lm.xml")

    assert source_poll(source_id=source.pk).stored == 30
    source.refresh_from_db()
    assert (source.etag, source.last_modified) == ("", "Wed, 24 Jul 2019 12:00:00 GMT")

    assert source_poll(source_id=source.pk).outcome == "not_modified"
    assert standin.requests[-1].headers["if-modified-since"] == source.last_modified
    assert "if-none-match" not in standin.requests[-1].headers
