"""The weight update's guardrails, as examples and as hypothesis properties."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.learning.engine import LearningConfig, learning_step
from apps.learning.reward import AttributedOutcome
from apps.learning.update import (
    UpdateConfig,
    guardrails_check,
    reward_targets,
    weights_pin,
    weights_project,
    weights_update,
)

Q = D("0.00000001")
UNITS = 10**8  # 1.0 in 8-decimal units


def test_formula_without_guardrails_binding():
    # lr=0.1, two strategies, rewards 0 and T*ln(3): targets 0.25/0.75.
    cfg = UpdateConfig(lr=D("0.1"), temperature=D(1), max_shift=D(1), floor=D(0))
    w = {"a": D("0.5"), "b": D("0.5")}
    r = {"a": D(0), "b": D("1.09861229")}  # ln 3 to 8 dp
    targets = reward_targets(rewards=r, mass=D(1), temperature=D(1))
    assert targets["b"].quantize(Q) == D("0.75000000")
    out = weights_update(weights=w, rewards=r, config=cfg)
    # (1 - 0.1) * 0.5 + 0.1 * 0.25 = 0.475
    assert out.weights == {"a": D("0.47500000"), "b": D("0.52500000")}
    assert [c.bound for c in out.changes] == ["", ""]


def test_cap_and_floor_hold_and_are_named():
    cfg = UpdateConfig(lr=D(1), temperature=D("0.001"), max_shift=D("0.1"), floor=D("0.05"))
    w = {"a": D("0.1"), "b": D("0.45"), "c": D("0.45")}
    out = weights_update(weights=w, rewards={"a": D(1), "b": D(0), "c": D(0)}, config=cfg)
    assert out.weights == {"a": D("0.2"), "b": D("0.4"), "c": D("0.4")}
    # a is held by the cap; b and c take what a could not (the projection moves them together)
    assert {c.strategy: c.bound for c in out.changes} == {"a": "cap", "b": "", "c": ""}
    w = {"a": D("0.06"), "b": D("0.47"), "c": D("0.47")}
    out = weights_update(weights=w, rewards={"a": D(-1), "b": D(0), "c": D(0)}, config=cfg)
    assert out.weights["a"] == D("0.05")
    assert out.changes[0].bound == "floor"
    assert sum(out.weights.values()) == 1


def test_ineligible_strategies_are_held_and_seed_rounding_is_absorbed():
    w = {"a": D("0.33333333"), "b": D("0.33333333"), "c": D("0.33333333")}  # sums to 0.99999999
    out = weights_update(weights=w, rewards={"a": D("0.01"), "b": D(0)}, config=UpdateConfig())
    assert out.weights["c"] == D("0.33333333")
    assert sum(out.weights.values()) == D(1)
    assert {c.strategy for c in out.changes} == {"a", "b"}


def test_no_rewards_no_change():
    w = {"a": D("0.5"), "b": D("0.5")}
    out = weights_update(weights=w, rewards={}, config=UpdateConfig())
    assert out.weights == w
    assert not out.applied


def test_infeasible_floor_is_reported_not_broken():
    w = {"a": D("0.9"), "b": D("0.05"), "c": D("0.05")}
    out = weights_update(
        weights=w, rewards={"b": D(1), "c": D(0)}, config=UpdateConfig(floor=D("0.06"))
    )
    assert out.weights == w
    assert "infeasible" in out.notes[0]


def test_bad_previous_weights_relax_the_cap_once():
    w = {"a": D("0.01"), "b": D("0.2"), "c": D("0.2")}  # below floor and summing to 0.41
    out = weights_update(
        weights=w, rewards={"a": D(0), "b": D(0), "c": D(0)}, config=UpdateConfig()
    )
    assert sum(out.weights.values()) == 1
    assert min(out.weights.values()) >= D("0.05")
    assert out.notes and "relaxed" in out.notes[0]


def test_project_rejects_impossible_bounds():
    with pytest.raises(ValueError):
        weights_project(
            proposal={"a": D("0.5")}, lower={"a": D("0.6")}, upper={"a": D(1)}, total=D("0.5")
        )


def test_pin():
    w = {"a": D("0.5"), "b": D("0.3"), "c": D("0.2")}
    new = weights_pin(weights=w, strategy="a", value=D("0.8"), floor=D("0.05"))
    assert new == {"a": D("0.8"), "b": D("0.12"), "c": D("0.08")}
    new = weights_pin(weights=w, strategy="a", value=D("0.88"), floor=D("0.05"))
    assert new["c"] == D("0.05") and new["b"] == D("0.07")  # c floored, b gives up the rest
    with pytest.raises(ValueError):
        weights_pin(weights=w, strategy="a", value=D("0.95"), floor=D("0.05"))
    with pytest.raises(ValueError):
        weights_pin(weights=w, strategy="zz", value=D("0.5"), floor=D("0.05"))


def test_config_validation_and_round_trip():
    cfg = UpdateConfig(
        lr=D("0.3"), max_shift=D("0.050000001"), floor=D("0.02"), temperature=D("0.1")
    )
    assert cfg.max_shift == D("0.05") and cfg.floor == D("0.02")  # quantised to 8 dp
    assert UpdateConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        UpdateConfig(lr=D(0))
    with pytest.raises(ValueError):
        UpdateConfig(temperature=D(0))


# ---- properties ----------------------------------------------------------------------------------
def _split(units: int, raw: list[int]) -> list[int]:
    """Split ``units`` into len(raw) non-negative integers in proportion to raw (exact)."""
    total = sum(raw) or 1
    parts = [units * r // total for r in raw]
    parts[0] += units - sum(parts)
    return parts


@st.composite
def situations(draw, *, deficit: bool = False):
    n = draw(st.integers(1, 8))
    floor_units = draw(st.sampled_from([0, 1, 10**6, 2 * 10**6, 5 * 10**6, 10**7, 12_500_000]))
    if n * floor_units > UNITS:
        floor_units = UNITS // n
    raw = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    free = UNITS - n * floor_units
    units = [floor_units + p for p in _split(free, raw)]
    if deficit:  # like the seeded 1/3 weights, which sum to 0.99999999
        k = draw(st.integers(0, n))
        for i in range(k):
            if units[i] > floor_units:
                units[i] -= 1
    names = [f"s{i}" for i in range(n)]
    weights = {name: D(u) * Q for name, u in zip(names, units, strict=True)}
    eligible = draw(st.lists(st.sampled_from(names), unique=True))
    rewards = {name: D(draw(st.integers(-(10**9), 10**9))) * Q for name in eligible}  # [-10, 10]
    cfg = UpdateConfig(
        lr=D(draw(st.integers(1, UNITS))) * Q,
        max_shift=D(draw(st.integers(1, UNITS))) * Q,
        floor=D(floor_units) * Q,
        temperature=D(draw(st.integers(1, 10**9))) * Q,
    )
    return weights, rewards, cfg


@settings(max_examples=400, deadline=None)
@given(situations())
def test_property_no_guardrail_is_ever_broken(case):
    weights, rewards, cfg = case
    out = weights_update(weights=weights, rewards=rewards, config=cfg)
    assert guardrails_check(old=weights, new=out.weights, eligible=set(rewards), config=cfg) == []
    if rewards:
        assert sum(out.weights.values()) == D(1)  # exactly
        assert not out.notes  # valid inputs never need the relaxed cap
    for name, w in out.weights.items():
        assert w == w.quantize(Q)
        if name in rewards:
            assert w >= cfg.floor
            assert abs(w - weights[name]) <= cfg.max_shift
        else:
            assert w == weights[name]


@settings(max_examples=200, deadline=None)
@given(situations(deficit=True))
def test_property_rounding_deficits_are_repaired_within_guardrails(case):
    weights, rewards, cfg = case
    out = weights_update(weights=weights, rewards=rewards, config=cfg)
    if rewards and not out.notes:
        assert sum(out.weights.values()) == D(1)
        assert all(out.weights[n] >= cfg.floor for n in rewards)
        assert all(abs(out.weights[n] - weights[n]) <= cfg.max_shift for n in rewards)


@settings(max_examples=200, deadline=None)
@given(situations(), st.integers(0, UNITS))
def test_property_pin_keeps_floor_and_sum(case, value_units):
    weights, _, cfg = case
    name = sorted(weights)[0]
    value = D(value_units) * Q
    others = len(weights) - 1
    if not others:
        value = D(1)
    if not cfg.floor <= value <= 1 - cfg.floor * others and others:
        with pytest.raises(ValueError):
            weights_pin(weights=weights, strategy=name, value=value, floor=cfg.floor)
        return
    new = weights_pin(weights=weights, strategy=name, value=value, floor=cfg.floor)
    assert new[name] == value
    assert sum(new.values()) == D(1)
    assert all(w >= cfg.floor for n, w in new.items() if n != name)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 30),
    st.lists(
        st.tuples(
            st.floats(-0.2, 0.2, allow_nan=False),
            st.dictionaries(
                st.sampled_from(["a", "b", "c"]), st.floats(-1, 1, allow_nan=False), max_size=3
            ),
        ),
        max_size=120,
    ),
)
def test_property_min_trades_guardrail(min_trades, raw):
    outcomes = [AttributedOutcome(roi=r, shares=s) for r, s in raw]
    weights = {"a": D("0.4"), "b": D("0.35"), "c": D("0.25")}
    config = LearningConfig(update=UpdateConfig(min_trades=min_trades))
    step = learning_step(weights=weights, outcomes=outcomes, config=config)
    for name, count in step.trade_counts.items():
        if count < max(min_trades, 1):
            assert step.update.weights[name] == weights[name]
            assert name not in step.eligible
        else:
            assert name in step.eligible
    assert (
        guardrails_check(
            old=weights, new=step.update.weights, eligible=set(step.eligible), config=config.update
        )
        == []
    )
