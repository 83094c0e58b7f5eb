"""The stand-in's news endpoint through alpaca-py's NewsClient (for the news stage's tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from alpaca.data.historical.news import NewsClient
from alpaca.data.models import NewsSet
from alpaca.data.requests import NewsRequest

from tests.standins.alpaca import KEY, SECRET, AlpacaStandIn


def test_news_pages_and_filters_by_symbol():
    with AlpacaStandIn(load_bars=False) as standin:
        standin.news.page_size = 10
        for i in range(25):
            standin.news.add(
                headline=f"headline {i}",
                symbols=["AAPL"] if i % 5 else ["MSFT"],
                created_at=datetime(2024, 1, 2, 14, i, tzinfo=UTC),
                summary="s",
            )
        client = NewsClient(KEY, SECRET, url_override=standin.data_url)
        got = client.get_news(NewsRequest(symbols="AAPL", start=datetime(2024, 1, 1, tzinfo=UTC)))
        assert isinstance(got, NewsSet)
        articles = got.data["news"]
        assert len(articles) == 20
        assert articles[0].headline == "headline 24"  # newest first, like Alpaca
        assert {tuple(a.symbols) for a in articles} == {("AAPL",)}
        assert (
            standin.count("GET", "/v1beta1/news", 200) == 2
        )  # pages of 10: alpaca-py follows the token
