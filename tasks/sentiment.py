"""Celery tasks of the sentiment stage (scoring itself runs in the ``sentiment`` stream consumer)."""

from __future__ import annotations

from celery import shared_task

from apps.bus.queues import Queue
from apps.sentiment.selectors import scorer_get
from apps.sentiment.services import article_rescore


@shared_task(
    name="sentiment.rescore", queue=Queue.SENTIMENT.value, acks_late=True, ignore_result=True
)
def rescore(article_id: int) -> str:
    """Score a stored article again with the current scorer (e.g. after a better model arrived)."""
    return article_rescore(article_id=article_id).model_used


@shared_task(name="sentiment.warmup", queue=Queue.SENTIMENT.value, ignore_result=True)
def warmup() -> str:
    """Load the tier-1 scorer now, so the first micro-batch does not wait for it."""
    return scorer_get().scorer.model_used
