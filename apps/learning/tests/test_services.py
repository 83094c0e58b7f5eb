"""Learning cycles on the database: audit trail, replay, freeze, resets, commands, metrics."""

import random
from datetime import timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from prometheus_client import REGISTRY

from apps.learning.models import LearningAdjustment, LearningCycle, LearningState, TradeOutcome
from apps.learning.selectors import (
    audit_replay,
    learning_config_get,
    learning_state_get,
    outcomes_attributed,
)
from apps.learning.services import learning_cycle_run, learning_freeze, weights_reset
from apps.learning.tests.conftest import T0, outcome_row
from apps.strategies.models import Strategy, StrategyWeightHistory

NAMES = ("mean_reversion", "momentum", "news_driven")


# The seeded weights: 1/3 each, the rounding remainder on the first, summing to exactly 1.
SEEDED = {
    "momentum": D("0.33333334"),
    "mean_reversion": D("0.33333333"),
    "news_driven": D("0.33333333"),
}


def add_outcomes(n: int, *, seed: int = 0, start: int = 0):
    """``n`` outcomes where momentum is right more often than the others."""
    rng = random.Random(seed)
    for i in range(n):
        roi = rng.gauss(0.5, 2.0)  # percent
        shares = {"momentum": 0.5, "mean_reversion": rng.choice([0.3, -0.3]), "news_driven": 0.2}
        outcome_row(roi_pct=roi, shares=shares, closed_at=T0 + timedelta(hours=start + i), pnl="10")


def sample(name, labels=None):
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def weights():
    return {s.name: s.weight for s in Strategy.objects.order_by("name")}


def test_cycle_waits_for_min_trades(strategies):
    add_outcomes(19)
    report = learning_cycle_run()
    assert report.outcome == "no_eligible"
    assert not LearningCycle.objects.exists()
    assert weights() == SEEDED


def test_cycle_writes_the_audit_trail(strategies, django_capture_on_commit_callbacks):
    add_outcomes(25)
    before = sample(
        "tradebot_learning_adjustments_total", {"strategy": "momentum", "kind": "update"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = learning_cycle_run(trigger="test")
    assert report.outcome == "applied"
    assert sum(report.weights.values()) == D(1)
    w = weights()
    assert w["momentum"] == max(w.values()) > D("0.33333333")
    cycle = LearningCycle.objects.get()
    assert cycle.kind == "update" and cycle.universe == list(NAMES)
    assert cycle.config == learning_config_get().to_dict()
    adjustments = {a.strategy.name: a for a in LearningAdjustment.objects.all()}
    assert set(adjustments) == set(NAMES)
    for name, adj in adjustments.items():
        assert adj.cycle == cycle.cycle and adj.new_weight == w[name]
        assert adj.reason.startswith("roi reward ") and "over 25 trades" in adj.reason
    assert StrategyWeightHistory.objects.count() == 3
    newest = TradeOutcome.objects.latest("id")
    assert LearningState.objects.get().last_outcome_id == cycle.outcomes_upto == newest.id
    after = sample(
        "tradebot_learning_adjustments_total", {"strategy": "momentum", "kind": "update"}
    )
    assert after == before + 1
    assert sample("tradebot_learning_weight", {"strategy": "momentum"}) == float(w["momentum"])
    assert sample("tradebot_learning_weight_drift_count", {"strategy": "momentum"}) >= 1


def test_no_new_outcomes_no_cycle_unless_forced(strategies):
    add_outcomes(22)
    assert learning_cycle_run().outcome == "applied"
    w = weights()
    assert learning_cycle_run().outcome == "no_new_outcomes"
    assert weights() == w
    assert learning_cycle_run(force=True).outcome == "applied"
    assert LearningCycle.objects.count() == 2


def test_frozen_learning_keeps_weights(strategies):
    add_outcomes(30)
    learning_freeze(frozen=True, reason="investigating")
    assert learning_cycle_run().outcome == "frozen"
    assert weights() == SEEDED
    learning_freeze(frozen=False)
    assert learning_cycle_run().outcome == "applied"


def test_replay_reproduces_current_weights_exactly(strategies):
    add_outcomes(20, seed=1)
    for k in range(6):  # cycles interleaved with new outcomes and a manual reset
        learning_cycle_run(now=T0 + timedelta(days=10 + k))
        add_outcomes(5, seed=10 + k, start=100 + 10 * k)
        if k == 3:
            weights_reset(strategy="news_driven", to=D("0.5"), now=T0 + timedelta(days=10, hours=k))
    learning_cycle_run()
    audit = audit_replay()
    assert audit.cycles == LearningCycle.objects.count() == 8
    assert audit.ok, audit.problems
    assert audit.replayed == weights() == audit.current
    # a weight edited behind the audit log's back is caught
    Strategy.objects.filter(name="momentum").update(weight=D("0.4"))
    audit = audit_replay()
    assert not audit.ok and "momentum" in audit.problems[0]


def test_reset_all_and_one(strategies):
    add_outcomes(25)
    learning_cycle_run()
    weights_reset(strategy="momentum", to=D("0.7"))
    w = weights()
    assert w["momentum"] == D("0.7") and sum(w.values()) == 1
    assert min(w.values()) >= D("0.05")
    weights_reset()
    assert weights() == SEEDED
    assert LearningCycle.objects.filter(kind="reset").count() == 2
    assert audit_replay().ok
    with pytest.raises(ValueError):
        weights_reset(to=D("0.5"))
    with pytest.raises(ValueError):
        weights_reset(strategy="nope")


def test_outcomes_selector_reads_roi_as_fraction(strategies):
    outcome_row(roi_pct=2.5, shares={"momentum": 1.0}, closed_at=T0)
    (o,) = outcomes_attributed()
    assert o.roi == pytest.approx(0.025) and o.shares == {"momentum": 1.0}


def test_learning_command(strategies):
    out = StringIO()
    call_command("learning", "freeze", "--reason", "market holiday", stdout=out)
    assert LearningState.objects.get().frozen
    call_command("learning", "status", stdout=out)
    assert "FROZEN (market holiday)" in out.getvalue()
    call_command("learning", "unfreeze", stdout=out)
    assert not LearningState.objects.get().frozen
    add_outcomes(21)
    call_command("learning", "cycle", stdout=out)
    assert "cycle: applied" in out.getvalue()
    call_command("learning", "replay", stdout=out)
    assert "reproduces the current weights" in out.getvalue()
    Strategy.objects.filter(name="momentum").update(weight=D("0.9"))
    with pytest.raises(CommandError, match="replay differs"):
        call_command("learning", "replay", stdout=out)


def test_reset_weights_command(strategies):
    out = StringIO()
    call_command("reset_weights", "momentum", "--to", "0.6", stdout=out)
    assert weights()["momentum"] == D("0.6")
    assert "sum 1.00000000" in out.getvalue()
    call_command("reset_weights", stdout=out)
    assert weights() == SEEDED
    with pytest.raises(CommandError):
        call_command("reset_weights", "--to", "0.5")
    with pytest.raises(CommandError):
        call_command("reset_weights", "momentum", "--to", "abc")
    with pytest.raises(CommandError):
        call_command(
            "reset_weights", "momentum", "--to", "0.99"
        )  # others would fall below the floor


def test_admin_pages_and_freeze_toggle(strategies, admin_client):
    add_outcomes(21)
    learning_cycle_run()
    for model in (
        "tradeoutcome",
        "learningadjustment",
        "learningcycle",
        "learningstate",
        "strategymetric",
        "portfoliosnapshot",
    ):
        assert admin_client.get(f"/admin/learning/{model}/").status_code == 200
    live = learning_state_get()
    resp = admin_client.post(
        f"/admin/learning/learningstate/{live.pk}/change/",
        {"frozen": "on", "reason": "earnings week"},
    )
    assert resp.status_code == 302
    state = LearningState.objects.get()
    assert state.frozen and state.reason == "earnings week"
    assert REGISTRY.get_sample_value("tradebot_learning_frozen") == 1.0
    resp = admin_client.post(
        "/admin/learning/learningstate/",
        {"action": "unfreeze", "_selected_action": [str(live.pk)]},
    )
    assert resp.status_code == 302
    assert not LearningState.objects.get().frozen
