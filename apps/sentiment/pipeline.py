"""Score a micro-batch of articles: tier 1 in one batched call, tier 2 for the unsure ones.

No ORM here: the stream consumer calls :func:`articles_score` in ``prepare()`` (before its
transaction) and stores the result with :func:`apps.sentiment.services.article_sentiments_save`;
backtests can call it on replayed articles in memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from apps.news.contracts import RawArticle
from apps.sentiment import metrics
from apps.sentiment.contracts import ScoredArticle, TickerSentiment
from apps.sentiment.scoring import MARKET_TICKER, Scorer, SentimentScore
from apps.sentiment.tiers.ollama import OK, OllamaTier

log = logging.getLogger(__name__)

TICKER_MAX_LEN = 12  # ArticleSentiment.ticker


def article_text(article: RawArticle) -> str:
    """What tier 1 reads: the headline (the models are trained on headline-length text).

    The summary is used only when there is no title.
    """
    return (article.title or article.summary or "").strip()


def article_tier2_text(article: RawArticle) -> str:
    """The LLM reads the headline and the start of the summary."""
    summary = (article.summary or "").strip()
    return f"{article.title}\n{summary[:1500]}" if summary else article.title


def tickers_for(article: RawArticle, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The article's tickers (tier-2 tickers only when it had none), else the market pseudo-ticker."""
    found = [t.strip().upper() for t in article.tickers if t and t.strip()]
    if not found:
        found = [t for t in extra if t]
    unique = tuple(dict.fromkeys(t for t in found if len(t) <= TICKER_MAX_LEN))
    return unique or (MARKET_TICKER,)


def scored_article(
    article: RawArticle,
    sentiment: SentimentScore,
    *,
    model: str,
    tier: int,
    extra_tickers: Sequence[str] = (),
) -> ScoredArticle:
    return ScoredArticle(
        article_id=article.article_id,
        published_at=article.published_at,
        scores=tuple(
            TickerSentiment(ticker=t, score=sentiment.score, confidence=sentiment.confidence)
            for t in tickers_for(article, extra_tickers)
        ),
        model_used=model,
        tier=tier,
    )


def articles_score(
    articles: Sequence[RawArticle],
    *,
    scorer: Scorer,
    tier2: OllamaTier | None = None,
    threshold: float = 0.6,
) -> list[ScoredArticle]:
    """One :class:`ScoredArticle` per article, in order."""
    if not articles:
        return []
    started = time.perf_counter()
    tier1 = scorer.score_batch([article_text(a) for a in articles])
    metrics.INFERENCE_SECONDS.labels("1").observe(time.perf_counter() - started)
    out: list[ScoredArticle] = []
    for article, s1 in zip(articles, tier1, strict=True):
        if s1.confidence >= threshold:
            metrics.ROUTED.labels("tier1").inc()
        elif tier2 is None:
            metrics.ROUTED.labels("tier2_skipped").inc()
        else:
            metrics.ROUTED.labels("tier2").inc()
            t0 = time.perf_counter()
            result, outcome = tier2.score(article_tier2_text(article), tickers=article.tickers)
            metrics.INFERENCE_SECONDS.labels("2").observe(time.perf_counter() - t0)
            metrics.TIER2_OUTCOMES.labels(outcome).inc()
            if result is not None and outcome == OK:
                metrics.ARTICLES_SCORED.labels("2").inc()
                out.append(
                    scored_article(
                        article,
                        result.sentiment,
                        model=result.model_used,
                        tier=2,
                        extra_tickers=result.tickers,
                    )
                )
                continue
        metrics.ARTICLES_SCORED.labels("1").inc()
        out.append(scored_article(article, s1, model=scorer.model_used, tier=1))
    return out
