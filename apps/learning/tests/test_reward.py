from decimal import Decimal as D

import pytest

from apps.learning.reward import (
    AttributedOutcome,
    RewardConfig,
    RewardKind,
    max_drawdown,
    participation_count,
    rewards_compute,
    strategy_series,
)

AO = AttributedOutcome


def test_series_signs_and_window():
    outs = [AO(0.02, {"a": 0.5, "b": -0.5}), AO(-0.01, {"a": 1.0}), AO(0.03, {"b": 0.2})]
    s = strategy_series(outcomes=outs, strategies=["a", "b"], window=10)
    assert s["a"] == [(-0.01, 1.0), (0.02, 0.5)]  # newest first
    assert s["b"] == [(0.03, 0.2), (-0.02, 0.5)]  # b voted against the first (winning) trade
    assert strategy_series(outcomes=outs, strategies=["a"], window=1)["a"] == [(-0.01, 1.0)]
    assert participation_count(outs) == {"a": 2, "b": 2}


def test_roi_reward_is_share_weighted_mean():
    outs = [AO(0.02, {"a": 1.0}), AO(-0.01, {"a": 0.5})]
    r = rewards_compute(outcomes=outs, strategies=["a"], config=RewardConfig(decay=1.0))
    assert r["a"] == D("0.01000000")  # (1.0*0.02 + 0.5*-0.01) / 1.5


def test_decay_favours_recent_outcomes():
    old_good_new_bad = [AO(0.05, {"a": 1.0})] * 10 + [AO(-0.05, {"a": 1.0})] * 10
    flat = rewards_compute(
        outcomes=old_good_new_bad, strategies=["a"], config=RewardConfig(decay=1.0)
    )
    decayed = rewards_compute(
        outcomes=old_good_new_bad, strategies=["a"], config=RewardConfig(decay=0.9)
    )
    assert flat["a"] == D(0)
    assert decayed["a"] < D(0)


def test_sharpe_penalises_volatility():
    steady = [AO(0.01, {"a": 1.0})] * 10 + [AO(0.012, {"a": 1.0})] * 10
    wild = [AO(0.11, {"a": 1.0}), AO(-0.09, {"a": 1.0})] * 10
    cfg = RewardConfig(kind=RewardKind.SHARPE, decay=1.0)
    s = rewards_compute(outcomes=steady, strategies=["a"], config=cfg)["a"]
    w = rewards_compute(outcomes=wild, strategies=["a"], config=cfg)["a"]
    assert s > D(5) > D("0.5") > w > D(0)
    roi = RewardConfig(decay=1.0)
    assert rewards_compute(outcomes=wild, strategies=["a"], config=roi)["a"] == D("0.01")


def test_drawdown_penalty():
    assert max_drawdown([0.1, -0.05, -0.1, 0.2]) == pytest.approx(0.15)
    outs = [AO(0.1, {"a": 1.0}), AO(-0.05, {"a": 1.0}), AO(-0.1, {"a": 1.0}), AO(0.2, {"a": 1.0})]
    plain = rewards_compute(outcomes=outs, strategies=["a"], config=RewardConfig(decay=1.0))
    penalised = rewards_compute(
        outcomes=outs, strategies=["a"], config=RewardConfig(decay=1.0, drawdown_penalty=0.5)
    )
    assert plain["a"] == D("0.03750000")
    assert penalised["a"] == D("-0.03750000")  # 0.0375 - 0.5 * 0.15


def test_reward_is_8dp_and_round_trips_through_a_float():
    outs = [AO(0.0123456789123, {"a": 0.3333}), AO(-0.00987654321, {"a": 0.7})]
    r = rewards_compute(outcomes=outs, strategies=["a", "nobody"], config=RewardConfig())
    assert r["nobody"] == D(0)
    assert r["a"] == r["a"].quantize(D("0.00000001"))
    assert D(repr(float(r["a"]))).quantize(D("0.00000001")) == r["a"]


def test_config_validation():
    with pytest.raises(ValueError):
        RewardConfig(decay=0)
    with pytest.raises(ValueError):
        RewardConfig(window=0)
    with pytest.raises(ValueError):
        RewardConfig(clip=1e9)
