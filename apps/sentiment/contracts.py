"""Payloads of the sentiment stage (stream ``news:scored``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core.contracts import Contract


@dataclass(frozen=True, slots=True)
class TickerSentiment:
    ticker: str
    score: float  # p(positive) - p(negative), in [-1, 1]
    confidence: float  # in [0, 1]


@dataclass(frozen=True, slots=True)
class ScoredArticle(Contract):
    """Sentiment of one article, per ticker, with the model that produced it."""

    TYPE = "news.scored"
    VERSION = 1

    article_id: int
    published_at: datetime | None
    scores: tuple[TickerSentiment, ...]
    model_used: str  # name@version
    tier: int = 1
