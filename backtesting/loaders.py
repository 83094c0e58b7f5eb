"""Load a backtest's inputs from the database, once, before the loop (the engine never queries).

Bars come through the market stage's selector (``bars_frame``). News sentiment comes from
``ArticleSentiment`` rows joined to their article's ``published_at``; articles that name a symbol
but were never scored (e.g. a data set loaded with ``--no-publish``) are scored here, in memory,
by the sentiment stage's own scoring (``articles_score``, the text it reads, the current tier-1
scorer: FinBERT, the trained model or the VADER fallback) — nothing is written back. Every item is
stamped and becomes visible as live (:mod:`apps.news.visibility`: ``published_at`` or else
``fetched_at``, plus the latency).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from apps.market.selectors import bars_frame
from apps.news.models import Article, ArticleSentiment
from apps.news.visibility import news_stamp
from apps.sentiment.pipeline import articles_score
from apps.sentiment.selectors import scorer_get
from apps.sentiment.services import article_raw
from apps.strategies.base import MarketFrame
from backtesting.config import BacktestConfig
from backtesting.data import sentiment_build, to_ns

if TYPE_CHECKING:
    from apps.news.models import Article

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
    """Stored scores of ``symbol``, each stamped as the live selector stamps it
    (:func:`apps.news.visibility.news_stamp`). As live, every model's score of an article counts
    (each weighted by its own confidence downstream)."""
    qs = ArticleSentiment.objects.filter(ticker=symbol).annotate(
        stamp=Coalesce(F("article__published_at"), F("article__fetched_at"))
    )
    if end is not None:  # later news cannot be visible
        qs = qs.filter(stamp__lte=end)
    rows = qs.order_by("stamp", "id").values_list("article_id", "stamp", "score", "confidence")
    pub: list[datetime | None] = []
    score: list[float] = []
    conf: list[float] = []
    seen: set[int] = set()
    for article_id, stamp, s, c in rows:
        seen.add(article_id)
        pub.append(stamp)
        score.append(float(s))
        conf.append(float(c))
    return pub, score, conf, seen


def _unscored_articles(symbol: str, end: datetime | None, scored: set[int]) -> list[Article]:
    qs = Article.objects.filter(tickers__contains=[symbol]).select_related("source")
    if end is not None:
        qs = qs.filter(Q(published_at__lte=end) | Q(published_at__isnull=True, fetched_at__lte=end))
    return [a for a in qs.order_by("id") if a.pk not in scored]


def frames_load(
    config: BacktestConfig, *, score_missing: bool = True
) -> tuple[dict[str, MarketFrame], LoadReport]:
    """Every symbol's bars in ``[start, end]`` with its point-in-time news sentiment attached."""
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
                    choice = scorer_get()
                    report.scorer = choice.scorer.model_used
                # the sentiment stage's own scoring (the text it reads, tier 1 only), in memory

                scored_now = articles_score(
                    [article_raw(a) for a in missing], scorer=choice.scorer, tier2=None
                )
                for article, result in zip(missing, scored_now, strict=True):
                    mine = [x for x in result.scores if x.ticker == symbol]
                    stamp = news_stamp(
                        published_at=article.published_at, fetched_at=article.fetched_at
                    )
                    for x in mine[:1]:
                        pub.append(stamp)
                        score.append(float(x.score))
                        conf.append(float(x.confidence))
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
