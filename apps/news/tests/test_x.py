"""X v2 recent search through httpx against a stand-in serving real (StockNet) tweets."""

from __future__ import annotations

import pytest

from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.tests.conftest import requires_shared_data
from apps.news.tests.standins import install_x

pytestmark = [
    requires_shared_data,
    pytest.mark.django_db,
    pytest.mark.usefixtures("news_settings", "no_default_sources"),
]

TOKEN = "test-bearer-token"


@pytest.fixture
def x_api(standin, news_settings):
    install_x(standin, TOKEN)
    news_settings.X_API_URL = standin.base_url
    news_settings.X_BEARER_TOKEN = TOKEN
    news_settings.NEWS_MAX_ITEMS_PER_POLL = 50
    return standin


def test_recent_search_stores_tweets_and_keeps_since_id(x_api):
    source = NewsSource.objects.create(name="X $MSFT", kind="x", account="$MSFT -is:retweet")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "ok" and 0 < outcome.fetched <= 50
    assert outcome.stored + outcome.duplicates == outcome.fetched and outcome.stored > 0
    request = x_api.requests[0]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.arg("query") == "$MSFT -is:retweet" and request.arg("expansions") == "author_id"
    tweet = Article.objects.filter(source=source)[0]
    assert tweet.published_at is not None
    assert "MSFT" in tweet.tickers
    assert tweet.url.startswith("https://x.com/") and "/status/" in tweet.url
    assert tweet.published_at.year == 2015
    source.refresh_from_db()
    newest = source.cursor
    assert newest.isdigit()

    again = source_poll(source_id=source.pk)

    assert x_api.requests[-1].arg("since_id") == newest
    assert again.outcome == "ok" and again.stored == 0


def test_without_a_token_x_is_skipped(news_settings):
    news_settings.X_BEARER_TOKEN = ""
    source = NewsSource.objects.create(name="X off", kind="x", account="$AAPL")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "skipped" and "X_BEARER_TOKEN not set" in outcome.error


def test_a_rejected_token_is_an_auth_error_with_backoff(x_api, news_settings):
    news_settings.X_BEARER_TOKEN = "wrong"
    source = NewsSource.objects.create(name="X bad", kind="x", account="$AAPL")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and outcome.error.startswith("auth: X refused the bearer")
    source.refresh_from_db()
    assert source.consecutive_errors == 1 and source.backoff_until is not None
