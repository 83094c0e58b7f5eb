"""Reddit through the real PRAW client against a stand-in replaying PRAW's recorded cassettes."""

from __future__ import annotations

import pytest

from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.tests.conftest import metric, requires_shared_data
from apps.news.tests.standins import install_reddit

pytestmark = [
    requires_shared_data,
    pytest.mark.django_db,
    pytest.mark.usefixtures("news_settings", "no_default_sources"),
]


@pytest.fixture
def reddit(standin, news_settings):
    install_reddit(standin)
    news_settings.REDDIT_CLIENT_ID = "client-id"
    news_settings.REDDIT_CLIENT_SECRET = "client-secret"
    news_settings.REDDIT_OAUTH_URL = standin.base_url
    news_settings.REDDIT_URL = standin.base_url
    return standin


def test_subreddit_new_listing_is_stored(reddit):
    # The cassettes recorded r/askreddit (PRAW's tests); a finance subreddit answers the same shape.
    source = NewsSource.objects.create(name="r/askreddit", kind="reddit", subreddit="askreddit")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "ok"
    assert outcome.fetched == 100 and outcome.stored == 100
    paths = [(r.method, r.path) for r in reddit.requests]
    assert paths[:2] == [("POST", "/api/v1/access_token"), ("GET", "/r/askreddit/new")]
    assert reddit.requests[1].arg("limit") == "100"
    article = Article.objects.filter(source=source).order_by("-published_at")[0]
    assert article.published_at is not None
    assert article.url.startswith("https://reddit.com/r/AskReddit/comments/")
    assert article.published_at.year == 2016
    source.refresh_from_db()
    assert int(source.cursor) == int(article.published_at.timestamp())

    # The stand-in answers the same listing again: the cursor keeps old posts out (no dedup churn).
    again = source_poll(source_id=source.pk)
    assert (again.outcome, again.fetched, again.stored) == ("ok", 0, 0)


def test_without_credentials_reddit_is_skipped_not_backed_off(news_settings):
    news_settings.REDDIT_CLIENT_ID = ""
    source = NewsSource.objects.create(name="r/stocks test", kind="reddit", subreddit="stocks")
    before = metric("tradebot_news_polls_total", source="r/stocks test", outcome="skipped")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "skipped"
    source.refresh_from_db()
    assert source.consecutive_errors == 0 and source.backoff_until is None
    assert source.last_error.startswith("skipped: Reddit: REDDIT_CLIENT_ID")
    assert (
        metric("tradebot_news_polls_total", source="r/stocks test", outcome="skipped") == before + 1
    )


def test_unknown_subreddit_is_an_http_error(reddit):
    source = NewsSource.objects.create(name="r/nothere", kind="reddit", subreddit="nothere")

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error"
    assert outcome.error.startswith("http: ")
    source.refresh_from_db()
    assert source.consecutive_errors == 1
