"""The learning engine's pure API: one call per cycle, and the audit-log replay.

This is what the live service (``apps.learning.services``) and the backtester both call; nothing
here touches the ORM, the clock or the broker::

    from apps.learning.engine import LearningConfig, learning_step
    from apps.learning.reward import AttributedOutcome
    from apps.learning.attribution import attribution_compute, Contribution

    shares = attribution_compute(direction="long", contributions=[Contribution("momentum", 0.8, 0.5), ...])
    outcomes.append(AttributedOutcome(roi=0.012, shares=shares))
    step = learning_step(weights=weights, outcomes=outcomes, config=LearningConfig())
    weights = step.update.weights          # Decimals, 8 dp, summing to 1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.learning.numbers import to_decimal
from apps.learning.reward import (
    AttributedOutcome,
    RewardConfig,
    RewardKind,
    participation_count,
    rewards_compute,
)
from apps.learning.update import UpdateConfig, WeightChange, WeightUpdate, weights_update

DEFAULT_MIN_INTERVAL_S = 86_400.0  # one market day between cycles


@dataclass(frozen=True, slots=True)
class LearningConfig:
    reward: RewardConfig = field(default_factory=RewardConfig)
    update: UpdateConfig = field(default_factory=UpdateConfig)
    # the cadence: at most one cycle per this much *market* time (live and backtest alike)
    min_interval_s: float = DEFAULT_MIN_INTERVAL_S

    def to_dict(self) -> dict[str, Any]:
        r = self.reward
        return {
            "reward": {
                "kind": r.kind.value,
                "window": r.window,
                "decay": r.decay,
                "drawdown_penalty": r.drawdown_penalty,
                "min_std": r.min_std,
                "clip": r.clip,
            },
            "update": self.update.to_dict(),
            "cadence": {"min_interval_s": self.min_interval_s},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LearningConfig:
        r = raw.get("reward", {})
        return cls(
            reward=RewardConfig(
                kind=RewardKind(r.get("kind", "roi")),
                window=int(r.get("window", 200)),
                decay=float(r.get("decay", 0.99)),
                drawdown_penalty=float(r.get("drawdown_penalty", 0.0)),
                min_std=float(r.get("min_std", 1e-4)),
                clip=float(r.get("clip", 10.0)),
            ),
            update=UpdateConfig.from_dict(raw["update"]),
            min_interval_s=float(
                (raw.get("cadence") or {}).get("min_interval_s", DEFAULT_MIN_INTERVAL_S)
            ),
        )


def cycle_due(*, last_cycle_at: datetime | None, now: datetime, min_interval_s: float) -> bool:
    """The one learning-cadence rule: a cycle may run once ``min_interval_s`` of market time has
    passed since the last applied one (the live beat and debounced trigger, and the backtester
    after each close, all ask it with their clock's time). The max-shift guardrail caps a cycle;
    this caps how many cycles a stretch of market time can hold."""
    if last_cycle_at is None:
        return True
    return (now - last_cycle_at).total_seconds() >= min_interval_s


@dataclass(frozen=True, slots=True)
class LearningStep:
    update: WeightUpdate
    rewards: dict[str, Decimal]  # every strategy with at least one outcome
    trade_counts: dict[str, int]  # outcomes each strategy took part in (all history)
    eligible: tuple[str, ...]  # strategies adjusted this cycle (>= min_trades)
    waiting: tuple[str, ...]  # strategies still below min_trades (weights held)

    def reason(self, change: WeightChange, kind: RewardKind) -> str:
        """A one-line audit reason for ``change`` (fits the 300-character column)."""
        held = {"cap": "; held by the max-shift cap", "floor": "; held at the floor"}.get(
            change.bound, ""
        )
        return (
            f"{kind.value} reward {change.reward:f} over "
            f"{self.trade_counts.get(change.strategy, 0)} trades; target {change.target:f}; "
            f"proposal {change.proposal:f}{held}"
        )[:300]


def learning_step(
    *,
    weights: Mapping[str, Decimal],
    outcomes: Sequence[AttributedOutcome],
    config: LearningConfig,
    trade_counts: Mapping[str, int] | None = None,
) -> LearningStep:
    """Rewards from the outcomes so far (oldest first), then one guarded weight update.

    ``weights``: the current weight of every active strategy. ``trade_counts`` may be passed by a
    caller that keeps them incrementally (the backtester); otherwise they are counted here.
    Strategies not in ``weights`` (inactive, unknown) are ignored.
    """
    counts = dict(trade_counts) if trade_counts is not None else participation_count(outcomes)
    names = sorted(weights)
    rewards = rewards_compute(
        outcomes=outcomes,
        strategies=[n for n in names if counts.get(n, 0) > 0],
        config=config.reward,
    )
    eligible = tuple(n for n in names if counts.get(n, 0) >= max(config.update.min_trades, 1))
    waiting = tuple(n for n in names if n not in eligible)
    update = weights_update(
        weights=weights, rewards={n: rewards[n] for n in eligible}, config=config.update
    )
    return LearningStep(
        update=update,
        rewards=rewards,
        trade_counts={n: counts.get(n, 0) for n in names},
        eligible=eligible,
        waiting=waiting,
    )


@dataclass(frozen=True, slots=True)
class ReplayCycle:
    """One logged cycle: an ``update`` (re-run from its rewards and config) or a ``reset``
    (its logged weights are applied as they are)."""

    kind: str  # "update" | "reset"
    weights: Mapping[str, Decimal]  # the logged new weights of the strategies it touched
    rewards: Mapping[str, Decimal] = field(default_factory=dict)  # update: eligible rewards
    config: UpdateConfig | None = None  # update: the config it ran with
    universe: tuple[str, ...] = ()  # update: the active strategies it ran over
    label: str = ""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    weights: dict[str, Decimal]
    mismatches: tuple[str, ...]  # cycles whose recomputed weights differ from the log

    @property
    def ok(self) -> bool:
        return not self.mismatches


def weights_replay(
    *, initial: Mapping[str, Decimal], cycles: Sequence[ReplayCycle]
) -> ReplayResult:
    """Re-run the audit log from the initial weights. Each update cycle is recomputed with the
    pure update (from the logged rewards and config) and compared with what was logged."""
    weights = {n: to_decimal(w) for n, w in initial.items()}
    mismatches: list[str] = []
    for cycle in cycles:
        if cycle.kind == "update":
            if cycle.config is None:
                raise ValueError(f"update cycle {cycle.label} has no config")
            active = {n: weights[n] for n in (cycle.universe or tuple(weights))}
            result = weights_update(weights=active, rewards=cycle.rewards, config=cycle.config)
            for n, w in cycle.weights.items():
                if result.weights.get(n) != w:
                    mismatches.append(
                        f"{cycle.label}: {n} recomputed {result.weights.get(n)} but logged {w}"
                    )
            weights.update(result.weights)
        else:
            weights.update({n: to_decimal(w) for n, w in cycle.weights.items()})
    return ReplayResult(weights=weights, mismatches=tuple(mismatches))
