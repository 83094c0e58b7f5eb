"""Alpaca News through alpaca-py's NewsClient against a stand-in of ``/v1beta1/news``."""

from __future__ import annotations

import pytest

from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.tests.conftest import requires_shared_data
from apps.news.tests.standins import hanging, install_alpaca_news

pytestmark = [
    requires_shared_data,
    pytest.mark.django_db,
    pytest.mark.usefixtures("news_settings", "no_default_sources"),
]


@pytest.fixture
def alpaca(standin, news_settings):
    install_alpaca_news(standin, "key-id", "secret")
    news_settings.ALPACA_API_KEY = "key-id"
    news_settings.ALPACA_SECRET_KEY = "secret"
    news_settings.ALPACA_DATA_URL = standin.base_url
    return standin


def alpaca_source(**options) -> NewsSource:
    return NewsSource.objects.create(
        name="Alpaca",
        kind="alpaca",
        cursor="2021-01-01T00:00:00+00:00",
        options={"symbols": ["AAPL", "AMZN", "CWAN"], **options},
    )


def test_news_with_symbols_is_stored_and_cursor_advances(alpaca):
    source = alpaca_source()

    outcome = source_poll(source_id=source.pk)

    # Three stand-in items mention these symbols; one (the docs' model example) has no URL.
    assert outcome.outcome == "ok" and outcome.stored == 3
    assert Article.objects.filter(url="").count() == 1
    request = alpaca.requests[0]
    assert request.path == "/v1beta1/news" and request.arg("symbols") == "AAPL,AMZN,CWAN"
    piper = Article.objects.get(title__startswith="Piper Sandler Maintains Neutral")
    assert piper.tickers[0] == "CWAN"
    assert piper.url.startswith("https://benzinga.com/news/24/11/41799100/")
    apple = Article.objects.get(title__startswith="Apple Leader in Phone Sales")
    assert apple.tickers == ["AAPL"]
    source.refresh_from_db()
    assert source.cursor == "2024-11-07T09:16:41+00:00"

    again = source_poll(source_id=source.pk)
    assert (again.outcome, again.stored) == ("ok", 0)


def test_wrong_keys_are_an_auth_error(alpaca, news_settings):
    news_settings.ALPACA_SECRET_KEY = "nope"
    source = alpaca_source()

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and outcome.error.startswith("auth: Alpaca refused")


def test_without_keys_alpaca_is_skipped(news_settings):
    news_settings.ALPACA_API_KEY = ""
    source = alpaca_source()

    assert source_poll(source_id=source.pk).outcome == "skipped"


def test_a_hanging_alpaca_server_times_out(standin, news_settings):
    standin.route("GET", "/v1beta1/news", hanging(standin))
    news_settings.ALPACA_API_KEY, news_settings.ALPACA_SECRET_KEY = "k", "s"
    news_settings.ALPACA_DATA_URL = standin.base_url
    source = alpaca_source()

    outcome = source_poll(source_id=source.pk)

    assert outcome.outcome == "error" and outcome.error.startswith("timeout: Alpaca News timed out")
