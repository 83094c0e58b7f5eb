"""Writes of the sentiment stage: ``article_sentiments`` rows (one per ticker and model)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.bus import outbox
from apps.bus.names import Stream
from apps.news.contracts import RawArticle
from apps.news.models import Article, ArticleSentiment
from apps.news.services import raw_article
from apps.sentiment.contracts import ScoredArticle
from apps.sentiment.pipeline import articles_score
from apps.sentiment.selectors import scorer_get, tier2_get

log = logging.getLogger(__name__)


def article_sentiments_save(*, scored: ScoredArticle) -> int:
    """Store one row per ticker; idempotent on (article, ticker, model). Returns rows offered.

    Returns 0 (and stores nothing) when the article no longer exists.
    """
    stored = article_sentiments_save_many(scored=[scored])
    return len(scored.scores) if scored.article_id in stored else 0


def article_sentiments_save_many(*, scored: list[ScoredArticle]) -> set[int]:
    """:func:`article_sentiments_save` for a batch in two statements. Returns the ids of the
    articles whose rows were offered (those that still exist)."""
    ids = {s.article_id for s in scored}
    existing = set(Article.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for gone in sorted(ids - existing):
        log.warning("sentiment: article %s is gone; score not stored", gone)
    ArticleSentiment.objects.bulk_create(
        [
            ArticleSentiment(
                article_id=sc.article_id,
                ticker=s.ticker,
                score=s.score,
                confidence=s.confidence,
                model_used=sc.model_used,
                tier=sc.tier,
            )
            for sc in scored
            if sc.article_id in existing
            for s in sc.scores
        ],
        ignore_conflicts=True,
    )
    return {sc.article_id for sc in scored if sc.article_id in existing and sc.scores}


def article_raw(article: Article) -> RawArticle:
    """The ``news:raw`` payload of a stored article (built by the news stage's one builder)."""
    return raw_article(article, source=article.source)


def article_rescore(*, article_id: int) -> ScoredArticle:
    """Score a stored article again with the current scorer, store it and publish ``news:scored``."""
    article = Article.objects.select_related("source").get(pk=article_id)
    [scored] = articles_score(
        [article_raw(article)],
        scorer=scorer_get().scorer,
        tier2=tier2_get(),
        threshold=settings.SENTIMENT_TIER2_THRESHOLD,
    )
    with transaction.atomic():
        article_sentiments_save(scored=scored)
        outbox.publish(Stream.NEWS_SCORED.value, scored)
    return scored


def training_ensure_background(*, allow: bool = True) -> str:
    """Start training the offline model in the background if no scorer model exists.

    Returns what happened, in words. Training is niced and logged under the data folder; the
    sentiment worker switches to the model when its ``LATEST`` pointer appears.
    """
    models = Path(settings.SENTIMENT_MODELS_DIR)
    if settings.FINBERT_MODEL:
        return f"sentiment: FinBERT tier configured ({settings.FINBERT_MODEL})"
    if (models / "LATEST").is_file():
        return f"sentiment: trained model present ({models / 'LATEST'})"
    if not allow or not settings.SENTIMENT_AUTO_TRAIN:
        return (
            "sentiment: no trained model; scoring uses the VADER lexicon fallback "
            "(run `manage.py train_sentiment`)"
        )
    logs = Path(settings.DATA_DIR) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    pidfile = logs / "train_sentiment.pid"
    try:
        os.kill(int(pidfile.read_text()), 0)
        return "sentiment: training already running in the background"
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass  # no training running: start one
    log_path = logs / "train_sentiment.log"
    with open(log_path, "ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, "manage.py", "train_sentiment", "--no-progress"],
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pidfile.write_text(str(proc.pid))
    return (
        f"sentiment: training the offline model in the background (log: {log_path}); "
        "the VADER lexicon scores until it is ready"
    )
