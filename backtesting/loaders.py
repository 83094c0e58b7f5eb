"""Load a backtest's inputs from the database, once, before the loop (the engine never queries).

Bars come through the market stage's selector (``bars_frame``). News sentiment comes from
``ArticleSentiment`` rows joined to their article's ``published_at``; articles that name a symbol
but were never scored (e.g. a data set loaded with ``--no-publish``) are scored here, in memory,
by the sentiment stage's current tier-1 scorer (FinBERT, the trained model or the VADER fallback)
— nothing is written back. Every item becomes visible at ``published_at + latency``; undated
items are dropped and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Q

from apps.strategies.base import MarketFrame
from backtesting.config import BacktestConfig
from backtesting.data import sentiment_build, to_ns

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    bars: dict[str, int] = field(default_factory=dict)
    news_stored: dict[str, int] = field(default_factory=dict)  # ArticleSentiment rows used
    news_scored_here: dict[str, int] = field(default_factory=dict)  # scored in memory
    news_undated: int = 0
    scorer: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "bars": self.bars,
            "news_stored": self.news_stored,
            "news_scored_here": self.news_scored_here,
            "news_undated": self.news_undated,
            "scorer": self.scorer,
        }


def _stored_sentiment(
    symbol: str, end: datetime | None
) -> tuple[list[datetime | None], list[float], list[float], set[int]]:
    """Stored scores of ``symbol``. As in the live selector, every model's score of an article
    counts (each weighted by its own confidence downstream)."""
    from apps.news.models import ArticleSentiment

    qs = ArticleSentiment.objects.filter(ticker=symbol)
    if end is not None:  # later news cannot be visible; undated rows are counted, then dropped
        qs = qs.filter(Q(article__published_at__lte=end) | Q(article__published_at__isnull=True))
    rows = qs.order_by("article__published_at", "id").values_list(
        "article_id", "article__published_at", "score", "confidence"
    )
    pub: list[datetime | None] = []
    score: list[float] = []
    conf: list[float] = []
    seen: set[int] = set()
    for article_id, published_at, s, c in rows:
        seen.add(article_id)
        pub.append(published_at)
        score.append(float(s))
        conf.append(float(c))
    return pub, score, conf, seen


def _unscored_articles(
    symbol: str, end: datetime | None, scored: set[int]
) -> list[tuple[datetime | None, str]]:
    from apps.news.models import Article

    qs = Article.objects.filter(tickers__contains=[symbol])
    if end is not None:
        qs = qs.filter(Q(published_at__lte=end) | Q(published_at__isnull=True))
    return [
        (published_at, f"{title}. {summary}".strip(" ."))
        for article_id, published_at, title, summary in qs.order_by("id").values_list(
            "id", "published_at", "title", "summary"
        )
        if article_id not in scored
    ]


def frames_load(
    config: BacktestConfig, *, score_missing: bool = True
) -> tuple[dict[str, MarketFrame], LoadReport]:
    """Every symbol's bars in ``[start, end]`` with its point-in-time news sentiment attached."""
    from apps.market.selectors import bars_frame

    report = LoadReport()
    frames: dict[str, MarketFrame] = {}
    choice = None
    for symbol in config.symbols:
        # every bar up to ``end``: history before ``start`` warms the strategies up (the engine
        # trades from ``start`` on), and nothing after ``end`` is loaded at all
        frame = bars_frame(symbol=symbol, timeframe=config.timeframe, end=config.end)
        report.bars[symbol] = len(frame)
        if len(frame) == 0:
            log.warning(
                "backtest: no %s bars for %s in the range; symbol skipped", config.timeframe, symbol
            )
            continue
        pub, score, conf, scored = _stored_sentiment(symbol, config.end)
        report.news_stored[symbol] = len(pub)
        if score_missing:
            missing = _unscored_articles(symbol, config.end, scored)
            if missing:
                if choice is None:
                    from apps.sentiment.selectors import scorer_get

                    choice = scorer_get()
                    report.scorer = choice.scorer.model_used
                results = choice.scorer.score_batch([text for _, text in missing])
                pub += [p for p, _ in missing]
                score += [r.score for r in results]
                conf += [r.confidence for r in results]
                report.news_scored_here[symbol] = len(missing)
                log.info(
                    "backtest: scored %d unscored %s article(s) in memory with %s",
                    len(missing),
                    symbol,
                    report.scorer,
                )
        series, undated = sentiment_build(
            published_at=pub, score=score, confidence=conf, latency_s=config.news_latency_s
        )
        report.news_undated += undated
        end_ns = to_ns(config.end) if config.end else None
        if end_ns is not None and series.visible_at.shape[0]:
            k = int(series.visible_at.searchsorted(end_ns, side="right"))
            series = replace(
                series,
                visible_at=series.visible_at[:k],
                score=series.score[:k],
                confidence=series.confidence[:k],
            )
        frames[symbol] = replace(frame, sentiment=series)
    return frames, report
