"""Database fixtures for the signals stage: daily bars on real session days, scored articles."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from apps.market import calendar
from apps.market.models import MarketBar
from apps.strategies.tests.frames import random_walk


def bars_create(ticker: str, start: date, end: date, seed: int = 5) -> list[datetime]:
    """Random-walk daily bars of ``ticker`` on every XNYS session in [start, end]."""
    days = calendar.sessions(start, end)
    f = random_walk(len(days), seed=seed)
    MarketBar.objects.bulk_create(
        [
            MarketBar(
                symbol=ticker,
                timeframe="1Day",
                time=calendar.daily_bar_time(d),
                open=Decimal(f"{f.open[i]:.4f}"),
                high=Decimal(f"{f.high[i]:.4f}"),
                low=Decimal(f"{f.low[i]:.4f}"),
                close=Decimal(f"{f.close[i]:.4f}"),
                volume=Decimal(int(f.volume[i])),
                source="test",
            )
            for i, d in enumerate(days)
        ]
    )
    return [calendar.session_bounds(d)[1] for d in days]  # visible (close) times


def article_scored(ticker: str, published_at: datetime, score: float, confidence: float = 0.9):
    from apps.news.models import Article, ArticleSentiment, NewsSource

    source, _ = NewsSource.objects.get_or_create(name="test", defaults={"kind": "replay"})
    n = Article.objects.count()
    article = Article.objects.create(
        source=source,
        url=f"https://example.com/{n}",
        title=f"{ticker} news {n}",
        published_at=published_at,
        fetched_at=published_at,
        content_hash=f"h{n}-{published_at.timestamp()}",
        tickers=[ticker],
    )
    ArticleSentiment.objects.create(
        article=article, ticker=ticker, score=score, confidence=confidence, model_used="test@1"
    )
    return article
