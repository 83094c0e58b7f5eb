"""The weighted ensemble as a scenario table, and its vectorised form."""

from __future__ import annotations

import numpy as np
import pytest

from apps.strategies.contracts import Direction
from apps.strategies.ensemble import EnsembleConfig, ensemble_combine, strategies_score
from apps.strategies.registry import strategy_build
from apps.strategies.tests.frames import random_walk

NAN = float("nan")
W = {"momentum": 0.5, "mean_reversion": 0.3, "news_driven": 0.2}

# (scores per strategy at one bar, expected direction, expected combined)
CASES = [
    pytest.param(
        {"momentum": 1.0, "mean_reversion": 1.0, "news_driven": 1.0}, "long", 1.0, id="all long"
    ),
    pytest.param(
        {"momentum": -1.0, "mean_reversion": -1.0, "news_driven": -1.0},
        "short",
        -1.0,
        id="all short",
    ),
    pytest.param(
        {"momentum": 0.2, "mean_reversion": -0.2, "news_driven": 0.0},
        "flat",
        0.04,
        id="weak -> flat",
    ),
    pytest.param(
        {"momentum": 0.4, "mean_reversion": 0.0, "news_driven": NAN},
        "long",
        0.25,
        id="news absent: renormalised",
    ),
    pytest.param(
        {"momentum": NAN, "mean_reversion": NAN, "news_driven": 0.9},
        "flat",
        NAN,
        id="too little coverage -> flat",
    ),
    pytest.param(
        {"momentum": 0.6, "mean_reversion": -0.9, "news_driven": 0.3},
        "flat",
        0.09,
        id="disagreement cancels",
    ),
    pytest.param(
        {"momentum": -0.3, "mean_reversion": -0.2, "news_driven": 0.0},
        "short",
        -0.21,
        id="short threshold",
    ),
]


@pytest.mark.parametrize(("scores", "direction", "combined"), CASES)
def test_ensemble_scenarios(scores, direction, combined):
    res = ensemble_combine({k: np.array([v]) for k, v in scores.items()}, W, EnsembleConfig())
    d = res.at(0)
    assert d.direction == Direction(direction)
    if np.isnan(combined):
        assert np.isnan(d.combined) and d.strength == 0.0
    else:
        assert d.combined == pytest.approx(combined)
        assert d.strength == pytest.approx(min(abs(combined), 1.0))
        # contributions add up to the combined score
        assert sum(float(res.contributions[k][0]) for k in scores) == pytest.approx(combined)
    assert {c.strategy: c.weight for c in d.contributions} == W


def test_vectorised_equals_bar_by_bar():
    frame = random_walk(250, seed=11, news=80)
    strategies = {n: strategy_build(n) for n in W}
    scores = strategies_score(strategies, frame)
    whole = ensemble_combine(scores, W)
    for t in (60, 120, 249):
        part = ensemble_combine({k: v[: t + 1] for k, v in scores.items()}, W)
        assert part.at(t) == whole.at(t)
    assert set(np.unique(whole.direction)) <= {-1, 0, 1}
    assert np.all((whole.strength >= 0) & (whole.strength <= 1))


def test_unknown_or_zero_weight_contributes_nothing():
    res = ensemble_combine({"a": np.array([1.0]), "b": np.array([-1.0])}, {"a": 1.0})
    assert res.at(0).direction == Direction.LONG
    assert float(res.contributions["b"][0]) == 0.0
