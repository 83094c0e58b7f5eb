"""The pure engine on a simulated market, and the replay of its log."""

import random
from decimal import Decimal as D
from typing import Any

import pytest

from apps.learning.attribution import Contribution, attribution_compute
from apps.learning.engine import LearningConfig, ReplayCycle, learning_step, weights_replay
from apps.learning.reward import AttributedOutcome, RewardConfig, RewardKind
from apps.learning.update import UpdateConfig, guardrails_check, weights_pin

NAMES = ("edge", "noise_a", "noise_b")
START = D("0.33333333")  # the seeded weights (sum 0.99999999)
CYCLE_EVERY = 5  # one learning cycle per 5 closed trades
TRADES = 400
# The edge: the next return is 0.015 * edge_score + N(0, 0.02); the noise strategies' scores are
# independent of it. (The edge strategy's score correlates ~0.4 with the return.)
EDGE = 0.015
SIGMA = 0.02
# Stated bound: with the default config, from this trade on the edge strategy has the largest weight
# and at least half of it, in every seed, through the end. Measured worst case over 40 seeds: 65
# (roi) / 70 (sharpe) trades, median 25; the first possible adjustment is at 20 (min_trades).
STATED_TRADES = 100


def config_for(kind: RewardKind) -> LearningConfig:
    temperature = D("0.0025") if kind is RewardKind.ROI else D("0.1")
    return LearningConfig(
        reward=RewardConfig(kind=kind), update=UpdateConfig(temperature=temperature)
    )


def simulate(seed: int, config: LearningConfig, trades: int = TRADES):
    rng = random.Random(seed)
    weights = dict.fromkeys(NAMES, START)
    outcomes: list[AttributedOutcome] = []
    history: list[tuple[int, dict[str, Any]]] = []
    log: list[ReplayCycle] = []
    while len(outcomes) < trades:
        scores = {n: rng.uniform(-1, 1) for n in NAMES}
        ret = EDGE * scores["edge"] + rng.gauss(0, SIGMA)
        vote = sum(float(weights[n]) * scores[n] for n in NAMES)
        if vote == 0:
            continue
        direction = "long" if vote > 0 else "short"
        shares = attribution_compute(
            direction=direction,
            contributions=[Contribution(n, scores[n], float(weights[n])) for n in NAMES],
        )
        outcomes.append(AttributedOutcome(roi=ret if vote > 0 else -ret, shares=shares))
        if len(outcomes) % CYCLE_EVERY == 0:
            step = learning_step(weights=weights, outcomes=outcomes, config=config)
            problems = guardrails_check(
                old=weights,
                new=step.update.weights,
                eligible=set(step.eligible),
                config=config.update,
            )
            assert problems == [], problems
            if step.update.applied:
                log.append(
                    ReplayCycle(
                        kind="update",
                        weights={c.strategy: c.new for c in step.update.changes},
                        rewards={c.strategy: c.reward for c in step.update.changes},
                        config=config.update,
                        universe=NAMES,
                        label=str(len(outcomes)),
                    )
                )
            weights = step.update.weights
            history.append((len(outcomes), dict(weights)))
    return weights, history, log


def held_from(history, predicate):
    """The first trade count from which ``predicate`` holds at every later cycle (None: never)."""
    since = None
    for trades, weights in history:
        since = since or trades if predicate(weights) else None
    return since


def edge_leads(w) -> bool:
    return w["edge"] >= D("0.5") and all(w["edge"] > w[n] for n in NAMES if n != "edge")


@pytest.mark.parametrize("kind", [RewardKind.ROI, RewardKind.SHARPE])
def test_weights_move_to_the_edge_strategy(kind):
    config = config_for(kind)
    reached = []
    for seed in range(20):
        weights, history, _ = simulate(seed, config)
        # nothing moves before any strategy has min_trades (20) outcomes
        assert all(w == dict.fromkeys(NAMES, START) for t, w in history if t < 20)
        since = held_from(history, edge_leads)
        assert since is not None and since <= STATED_TRADES, (seed, since, weights)
        reached.append(since)
        assert sum(weights.values()) == 1
    assert sorted(reached)[len(reached) // 2] <= 40  # the median case is much faster


def test_same_inputs_same_weights():
    a = simulate(7, config_for(RewardKind.ROI), trades=120)[0]
    b = simulate(7, config_for(RewardKind.ROI), trades=120)[0]
    assert a == b


def test_replaying_the_log_reproduces_the_weights_exactly():
    weights, _, log = simulate(3, config_for(RewardKind.SHARPE), trades=200)
    assert log
    replay = weights_replay(initial=dict.fromkeys(NAMES, START), cycles=log)
    assert replay.ok and replay.weights == weights
    # a manual reset in the middle is replayed as logged
    pinned = weights_pin(weights=weights, strategy="noise_a", value=D("0.6"), floor=D("0.05"))
    reset = ReplayCycle(kind="reset", weights=pinned, label="reset")
    assert (
        weights_replay(initial=dict.fromkeys(NAMES, START), cycles=[*log, reset]).weights == pinned
    )


def test_replay_detects_a_tampered_log():
    _, _, log = simulate(3, config_for(RewardKind.ROI), trades=60)
    first = log[0]
    forged = ReplayCycle(
        kind="update",
        weights={**first.weights, "edge": first.weights["edge"] + D("0.00000001")},
        rewards=first.rewards,
        config=first.config,
        universe=first.universe,
        label="forged",
    )
    replay = weights_replay(initial=dict.fromkeys(NAMES, START), cycles=[forged, *log[1:]])
    assert not replay.ok
    assert "forged" in replay.mismatches[0]


def test_config_round_trip():
    cfg = config_for(RewardKind.SHARPE)
    assert LearningConfig.from_dict(cfg.to_dict()) == cfg
