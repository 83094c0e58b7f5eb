"""Sentiment scoring maths and the one scorer interface (pure: no Django, no ORM).

Every scorer turns a batch of texts into :class:`SentimentScore` values with the same meaning:
``score = p(positive) - p(negative)`` in [-1, 1], ``confidence`` = probability of the winning class,
and the three label probabilities. Models label their classes in their own order (FinBERT:
positive/negative/neutral; the twitter set: bearish/bullish/neutral), so labels are always mapped by
name through the model's ``id2label``, never by position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
LABELS: tuple[str, str, str] = (POSITIVE, NEGATIVE, NEUTRAL)

# An article that names no ticker is still scored, under this market-wide pseudo-ticker ("*" can
# never be a listed symbol), so the news-driven strategy can read market mood from news:scored.
MARKET_TICKER = "*MARKET"

# Names models use for the three classes, mapped onto ours.
_LABEL_ALIASES: dict[str, str] = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "bullish": POSITIVE,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "bearish": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
}


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """The sentiment of one text."""

    score: float  # p(positive) - p(negative), in [-1, 1]
    confidence: float  # probability of the most likely class, in [0, 1]
    positive: float
    negative: float
    neutral: float

    @property
    def label(self) -> str:
        probs = {POSITIVE: self.positive, NEGATIVE: self.negative, NEUTRAL: self.neutral}
        return max(probs, key=probs.__getitem__)


@runtime_checkable
class Scorer(Protocol):
    """A tier-1 scorer: a batch of texts in, one :class:`SentimentScore` per text out, in order."""

    name: str
    version: str

    @property
    def model_used(self) -> str:
        """``name@version`` as recorded on every score."""
        ...

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]: ...


def model_used(name: str, version: str) -> str:
    return f"{name}@{version}"[:120]  # ArticleSentiment.model_used is 120 chars


def canonical_label(raw: str) -> str:
    """Map a model's class name (``"Bullish"``, ``"LABEL_POSITIVE"``...) onto ours."""
    key = raw.strip().lower().removeprefix("label_")
    try:
        return _LABEL_ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown sentiment label {raw!r}") from None


def label_order(id2label: Mapping[int, str] | Mapping[str, str]) -> list[int]:
    """Column index of (positive, negative, neutral) in a model's output, from its ``id2label``."""
    by_label: dict[str, int] = {}
    for idx, raw in id2label.items():
        by_label[canonical_label(str(raw))] = int(idx)
    missing = [lab for lab in LABELS if lab not in by_label]
    if missing:
        raise ValueError(f"model labels {dict(id2label)} lack {missing}")
    return [by_label[lab] for lab in LABELS]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def scores_from_probs(probs: np.ndarray, order: Sequence[int]) -> list[SentimentScore]:
    """Rows of class probabilities (model order) to scores; ``order`` from :func:`label_order`."""
    p = np.asarray(probs, dtype=np.float64)[:, list(order)]
    return [
        SentimentScore(
            score=float(np.clip(row[0] - row[1], -1.0, 1.0)),
            confidence=float(row.max()),
            positive=float(row[0]),
            negative=float(row[1]),
            neutral=float(row[2]),
        )
        for row in p
    ]


def scores_from_logits(logits: np.ndarray, order: Sequence[int]) -> list[SentimentScore]:
    return scores_from_probs(softmax(np.asarray(logits, dtype=np.float64)), order)


def score_from_value(score: float, confidence: float) -> SentimentScore:
    """A score given as one number (lexicon, LLM) spread over the three classes.

    The polar mass is ``|score|`` on the score's side; the rest is neutral, so that
    ``positive - negative == score`` holds exactly.
    """
    s = float(np.clip(score, -1.0, 1.0))
    pos, neg = max(s, 0.0), max(-s, 0.0)
    return SentimentScore(
        score=s,
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        positive=pos,
        negative=neg,
        neutral=1.0 - pos - neg,
    )


_URL = re.compile(r"https?://\S+|www\.\S+")
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z.]{0,9})\b")
_SPACES = re.compile(r"\s+")


def text_normalise(text: str) -> str:
    """The same clean-up at training and at scoring time: drop links, ``$AAPL`` -> ``AAPL``."""
    text = _URL.sub(" ", text)
    text = _CASHTAG.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
