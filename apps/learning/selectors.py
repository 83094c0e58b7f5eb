"""Reads of the learning stage: configuration, state, attributed outcomes and the audit replay."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from apps.learning.engine import LearningConfig, ReplayCycle, weights_replay
from apps.learning.models import LearningAdjustment, LearningCycle, LearningState, TradeOutcome
from apps.learning.numbers import q8, to_decimal
from apps.learning.reward import AttributedOutcome, RewardConfig, RewardKind
from apps.learning.update import UpdateConfig
from apps.strategies.models import LIVE_ACCOUNT, Strategy

DEFAULT_TEMPERATURE = {RewardKind.ROI: Decimal("0.0025"), RewardKind.SHARPE: Decimal("0.1")}


def learning_config_get() -> LearningConfig:
    """The live configuration, from ``settings.LEARNING`` (environment knobs)."""
    raw = settings.LEARNING
    kind = RewardKind(str(raw.get("REWARD", "roi")).lower())
    temperature = str(raw.get("TEMPERATURE") or "") or str(DEFAULT_TEMPERATURE[kind])
    return LearningConfig(
        reward=RewardConfig(
            kind=kind,
            window=int(raw.get("WINDOW", 200)),
            decay=float(raw.get("DECAY", 0.99)),
            drawdown_penalty=float(raw.get("DRAWDOWN_PENALTY", 0.0)),
        ),
        update=UpdateConfig(
            lr=Decimal(str(raw.get("LR", "0.2"))),
            min_trades=int(raw.get("MIN_TRADES", 20)),
            max_shift=Decimal(str(raw.get("MAX_SHIFT", "0.1"))),
            floor=Decimal(str(raw.get("FLOOR", "0.05"))),
            temperature=Decimal(temperature),
        ),
        min_interval_s=float(raw.get("MIN_INTERVAL_S", 86_400)),
    )


def learning_state_get() -> LearningState:
    state, _ = LearningState.objects.get_or_create(account=LIVE_ACCOUNT)
    return state


def outcomes_attributed(
    *, upto_id: int | None = None, account: str = LIVE_ACCOUNT
) -> list[AttributedOutcome]:
    """Every trade outcome of ``account``, oldest first (closes of one instant by ticker, as the
    backtester orders them), as the pure learner sees it (ROI as a fraction)."""
    qs = TradeOutcome.objects.filter(account=account).order_by("closed_at", "ticker", "id")
    if upto_id is not None:
        qs = qs.filter(id__lte=upto_id)
    return [
        AttributedOutcome(
            roi=roi_pct / 100.0,
            shares={str(k): float(v) for k, v in (attribution or {}).items()},
            closed_at=closed_at,
        )
        for roi_pct, attribution, closed_at in qs.values_list("roi_pct", "attribution", "closed_at")
    ]


@dataclass(frozen=True, slots=True)
class AuditReport:
    replayed: dict[str, Decimal]
    current: dict[str, Decimal]
    cycles: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_replay() -> AuditReport:
    """Replay the audit log (learning cycles and their adjustments) from every strategy's initial
    weight, recomputing each update with the pure engine, and compare with the current weights."""
    strategies = list(Strategy.objects.order_by("name"))
    initial = {s.name: s.initial_weight for s in strategies}
    current = {s.name: s.weight for s in strategies}
    by_cycle: dict[str, list[LearningAdjustment]] = defaultdict(list)
    adjustments = LearningAdjustment.objects.filter(account=LIVE_ACCOUNT).select_related("strategy")
    for adj in adjustments.order_by("id"):
        by_cycle[adj.cycle].append(adj)
    cycles: list[ReplayCycle] = []
    for row in LearningCycle.objects.filter(account=LIVE_ACCOUNT).order_by("id"):
        adjs = by_cycle.get(row.cycle, [])
        logged = {a.strategy.name: a.new_weight for a in adjs}
        if row.kind == LearningCycle.Kind.UPDATE:
            cycles.append(
                ReplayCycle(
                    kind="update",
                    weights=logged,
                    rewards={a.strategy.name: q8(to_decimal(a.reward_signal)) for a in adjs},
                    config=UpdateConfig.from_dict(row.config["update"]),
                    universe=tuple(row.universe),
                    label=row.cycle,
                )
            )
        else:
            cycles.append(ReplayCycle(kind="reset", weights=logged, label=row.cycle))
    result = weights_replay(initial=initial, cycles=cycles)
    problems = list(result.mismatches)
    for name, w in current.items():
        if result.weights.get(name) != w:
            problems.append(f"{name}: replay gives {result.weights.get(name)}, current is {w}")
    return AuditReport(
        replayed=result.weights, current=current, cycles=len(cycles), problems=tuple(problems)
    )
