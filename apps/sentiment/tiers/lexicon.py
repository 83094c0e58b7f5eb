"""The lexicon fallback: VADER (its lexicon ships inside ``vaderSentiment``; nothing is downloaded).

Used only until a trained model exists. VADER's ``compound`` value is the score; the three class
probabilities are spread so that ``positive - negative == score`` (see
:func:`apps.sentiment.scoring.score_from_value`), so a headline is called polar when
``|score| > 0.5``. Confidence is at most 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from apps.sentiment.scoring import SentimentScore, model_used, score_from_value

VADER_VERSION = "3.3.2"


class LexiconScorer:
    name = "vader-lexicon"
    version = VADER_VERSION

    def __init__(self) -> None:
        self.analyzer = SentimentIntensityAnalyzer()

    @property
    def model_used(self) -> str:
        return model_used(self.name, self.version)

    def compound(self, text: str) -> float:
        return float(self.analyzer.polarity_scores(text)["compound"])

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        out = []
        for text in texts:
            c = self.compound(text)
            # A lexicon is never sure (negation, finance jargon): confidence stays <= 0.5, so with
            # Ollama configured every fallback score is checked by tier 2.
            out.append(score_from_value(c, 0.5 * max(abs(c), 1.0 - abs(c))))
        return out
