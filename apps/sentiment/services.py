"""Writes of the sentiment stage: ``article_sentiments`` rows (one per ticker and model)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from apps.news.contracts import RawArticle
from apps.news.models import Article, ArticleSentiment
from apps.sentiment.contracts import ScoredArticle
from apps.sentiment.pipeline import articles_score
from apps.sentiment.selectors import scorer_get, tier2_get
from tasks.streams.names import Stream

log = logging.getLogger(__name__)


def article_sentiments_save(*, scored: ScoredArticle) -> int:
    """Store one row per ticker; idempotent on (article, ticker, model). Returns rows offered.

    Returns 0 (and stores nothing) when the article no longer exists.
    """
    if not Article.objects.filter(pk=scored.article_id).exists():
        log.warning("sentiment: article %s is gone; score not stored", scored.article_id)
        return 0
    rows = [
        ArticleSentiment(
            article_id=scored.article_id,
            ticker=s.ticker,
            score=s.score,
            confidence=s.confidence,
            model_used=scored.model_used,
            tier=scored.tier,
        )
        for s in scored.scores
    ]
    # A replayed message scores with the same model: the unique constraint keeps the first row.
    ArticleSentiment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def article_raw(article: Article) -> RawArticle:
    """The ``news:raw`` payload of a stored article (built by the news stage's one builder)."""
    from apps.news.services import raw_article

    return raw_article(article, source=article.source)


def article_rescore(*, article_id: int) -> ScoredArticle:
    """Score a stored article again with the current scorer, store it and publish ``news:scored``."""
    from tasks.streams import bus

    article = Article.objects.select_related("source").get(pk=article_id)
    [scored] = articles_score(
        [article_raw(article)],
        scorer=scorer_get().scorer,
        tier2=tier2_get(),
        threshold=settings.SENTIMENT_TIER2_THRESHOLD,
    )
    with transaction.atomic():
        article_sentiments_save(scored=scored)
        bus.publish(Stream.NEWS_SCORED.value, scored)
    return scored
