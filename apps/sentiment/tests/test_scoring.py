"""Scoring maths: label mapping by name, score = p(pos) - p(neg), normalisation, the lexicon."""

from __future__ import annotations

import numpy as np
import pytest

from apps.sentiment.scoring import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    canonical_label,
    label_order,
    model_used,
    score_from_value,
    scores_from_logits,
    scores_from_probs,
    softmax,
    text_normalise,
)
from apps.sentiment.tiers.lexicon import LexiconScorer
from apps.sentiment.training.train import metrics_compute


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "positive", 1: "negative", 2: "neutral"}, [0, 1, 2]),  # FinBERT
        ({0: "Bearish", 1: "Bullish", 2: "Neutral"}, [1, 0, 2]),  # twitter financial news
        ({"0": "LABEL_NEUTRAL", "1": "NEG", "2": "pos"}, [2, 1, 0]),  # string keys (config.json)
    ],
)
def test_label_order_maps_by_name_not_position(id2label, expected):
    assert label_order(id2label) == expected


def test_unknown_or_missing_labels_are_refused():
    with pytest.raises(ValueError, match="unknown sentiment label"):
        canonical_label("LABEL_0")
    with pytest.raises(ValueError, match="lack"):
        label_order({0: "positive", 1: "negative", 2: "positive"})


def test_score_is_p_positive_minus_p_negative():
    # Model order negative, neutral, positive.
    order = label_order({0: "negative", 1: "neutral", 2: "positive"})
    [s] = scores_from_probs(np.array([[0.1, 0.2, 0.7]]), order)
    assert s.score == pytest.approx(0.6)
    assert s.confidence == pytest.approx(0.7)
    assert (s.positive, s.negative, s.neutral) == pytest.approx((0.7, 0.1, 0.2))
    assert s.label == POSITIVE


def test_scores_from_logits_softmax_and_bounds():
    logits = np.array([[10.0, -10.0, 0.0], [-50.0, 50.0, 0.0], [0.0, 0.0, 0.0]])
    probs = softmax(logits)
    assert probs.sum(axis=1) == pytest.approx([1, 1, 1])
    strong_pos, strong_neg, flat = scores_from_logits(logits, [0, 1, 2])
    assert strong_pos.score == pytest.approx(1.0, abs=1e-4)
    assert strong_neg.score == pytest.approx(-1.0, abs=1e-4)
    assert strong_neg.label == NEGATIVE
    assert flat.score == pytest.approx(0.0)
    assert flat.confidence == pytest.approx(1 / 3)


@pytest.mark.parametrize("value", [-1.0, -0.3, 0.0, 0.45, 1.0, 3.0])
def test_score_from_value_keeps_the_identity(value):
    s = score_from_value(value, 0.8)
    assert -1.0 <= s.score <= 1.0
    assert s.positive - s.negative == pytest.approx(s.score)
    assert s.positive + s.negative + s.neutral == pytest.approx(1.0)
    assert s.confidence == 0.8


def test_text_normalise_drops_links_and_cashtags():
    raw = "$AAPL - Apple beats   estimates https://t.co/abc123 and $BRK.B too"
    assert text_normalise(raw) == "AAPL - Apple beats estimates and BRK.B too"


def test_model_used_is_name_at_version_within_column_size():
    assert model_used("m", "v1") == "m@v1"
    assert len(model_used("x" * 200, "v")) == 120


def test_lexicon_scorer_directions_and_identity():
    lex = LexiconScorer()
    good, bad, flat = lex.score_batch(
        [
            "Profits soar, a great and excellent quarter",
            "Terrible losses, a disaster",
            "The AGM is on May 3",
        ]
    )
    assert good.score > 0.5 and good.label == POSITIVE
    assert bad.score < -0.5 and bad.label == NEGATIVE
    assert flat.score == 0.0 and flat.label == NEUTRAL
    for s in (good, bad, flat):
        assert s.positive - s.negative == pytest.approx(s.score)
    assert lex.model_used == "vader-lexicon@3.3.2"


def test_metrics_compute():
    gold = [POSITIVE, NEGATIVE, NEUTRAL, NEUTRAL]
    pred = [POSITIVE, NEUTRAL, NEUTRAL, NEUTRAL]
    acc, f1 = metrics_compute(gold, pred)
    assert acc == 0.75
    # F1: positive 1.0, negative 0.0, neutral 2*(2/3*1)/(2/3+1) = 0.8
    assert f1 == pytest.approx((1.0 + 0.0 + 0.8) / 3)
