"""Stage consumer: ``news:raw`` -> score (tiers 1 and 2) -> ``article_sentiments`` + ``news:scored``.

Runs on the ``sentiment`` queue (the GPU queue). Inference happens once per micro-batch in
:meth:`prepare`, before the batch transaction; :meth:`handle` only stores and emits.
"""

from __future__ import annotations

import logging

from django.conf import settings

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.names import Stream
from apps.bus.queues import Queue
from apps.news.contracts import RawArticle
from apps.sentiment.contracts import ScoredArticle
from apps.sentiment.pipeline import articles_score
from apps.sentiment.selectors import scorer_get, tier2_get
from apps.sentiment.services import article_sentiments_save, article_sentiments_save_many

log = logging.getLogger(__name__)


class SentimentConsumer(StreamConsumer):
    stream = Stream.NEWS_RAW.value
    group = "sentiment"
    queue = Queue.SENTIMENT.value
    # A news burst is scored in micro-batches of up to this many articles, sorted by token count
    # inside the scorer: larger batches pad less (docs/sentiment.md, "Inference path").
    read_count = settings.SENTIMENT_MICRO_BATCH
    # Storing scores is database work only: a clean micro-batch is stored in two statements
    # (handle_batch); a failure falls back to a savepoint per message.
    savepoint_per_message = False

    def __init__(self, consumer_name: str | None = None) -> None:
        super().__init__(consumer_name)
        self._scored: dict[str, ScoredArticle] = {}

    def _score(self, articles: list[RawArticle]) -> list[ScoredArticle]:
        return articles_score(
            articles,
            scorer=scorer_get().scorer,
            tier2=tier2_get(),
            threshold=settings.SENTIMENT_TIER2_THRESHOLD,
        )

    def prepare(self, deliveries: list[Delivery]) -> None:
        """Score the whole micro-batch in one batched inference call."""
        batch = [(d, d.message) for d in deliveries if isinstance(d.message, RawArticle)]
        scored = self._score([m for _, m in batch])
        self._scored = {d.message_id: s for (d, _), s in zip(batch, scored, strict=True)}

    def handle_batch(self, deliveries: list[Delivery]) -> None:
        pairs = []
        for d in deliveries:
            article = d.message
            if not isinstance(article, RawArticle):
                raise TypeError(f"expected RawArticle, got {type(article).__name__}")
            scored = self._scored.get(d.message_id)
            if scored is None:  # prepare() failed or skipped it: score this one alone
                [scored] = self._score([article])
            pairs.append((d, scored))
        stored = article_sentiments_save_many(scored=[s for _, s in pairs])
        for d, scored in pairs:
            if scored.article_id in stored:
                d.emit(Stream.NEWS_SCORED.value, scored)
        self._scored.clear()

    def handle(self, delivery: Delivery) -> None:
        article = delivery.message
        if not isinstance(article, RawArticle):
            raise TypeError(f"expected RawArticle, got {type(article).__name__}")
        scored = self._scored.pop(delivery.message_id, None)
        if scored is None:  # prepare() failed or skipped it: score this one alone
            [scored] = self._score([article])
        if article_sentiments_save(scored=scored):
            delivery.emit(Stream.NEWS_SCORED.value, scored)
