"""Rewards (pure): how well each strategy's calls have done lately.

For strategy ``i`` and every outcome it took part in (newest first, ``k = 0, 1, ...``):

* ``x_k = sign(share_k) · roi_k`` — the trade's ROI (a fraction) as seen by the strategy: what it
  would have earned trading in the direction *it* voted for;
* ``c_k = |share_k| · decay^k`` — how much the outcome counts: in proportion to the strategy's
  contribution to the signal (attribution), and less the older it is (the decay factor that
  favours recent outcomes). Only the ``window`` most recent outcomes count.

Reward kinds (:class:`RewardKind`):

* ``roi`` — the credit-weighted mean ROI ``μ = Σ c_k x_k / Σ c_k``;
* ``sharpe`` — risk-adjusted: ``μ / max(σ, min_std)`` with ``σ`` the credit-weighted standard
  deviation of ``x`` over the window (a per-trade Sharpe ratio, not annualised).

Either can carry a **drawdown penalty**: ``reward −= drawdown_penalty · MDD`` where ``MDD`` is the
largest peak-to-trough fall of the strategy's cumulative ``x`` over the window (oldest to newest).
The result is clipped to ``±clip`` and quantised to 8 decimals, so what the audit log stores is
exactly what the weight update used. Sums use ``math.fsum`` (correctly rounded, so the same on
every platform).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from apps.learning.numbers import q8


class RewardKind(StrEnum):
    ROI = "roi"
    SHARPE = "sharpe"


@dataclass(frozen=True, slots=True)
class RewardConfig:
    kind: RewardKind = RewardKind.ROI
    window: int = 200  # most recent outcomes per strategy that count
    decay: float = 0.99  # an outcome k trades old counts decay**k
    drawdown_penalty: float = 0.0  # 0 = off
    min_std: float = 1e-4  # sharpe: a floor on σ so a lucky streak is not infinitely good
    clip: float = 10.0  # |reward| bound

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError("window must be >= 1")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError("decay must be in (0, 1]")
        if self.drawdown_penalty < 0 or self.min_std <= 0:
            raise ValueError("drawdown_penalty >= 0 and min_std > 0 are required")
        # A reward has 8 decimals and is logged as a float: up to 1e6 it has at most 15 significant
        # digits, which a float round-trips exactly (the audit replay relies on it).
        if not 0 < self.clip <= 1e6:
            raise ValueError("clip must be in (0, 1e6]")


@dataclass(frozen=True, slots=True)
class AttributedOutcome:
    """A closed trade as the learner sees it: its ROI (fraction, 0.02 = +2%) and the shares."""

    roi: float
    shares: Mapping[str, float] = field(default_factory=dict)
    closed_at: datetime | None = None


def participation_count(outcomes: Iterable[AttributedOutcome]) -> dict[str, int]:
    """How many outcomes each strategy took part in (non-zero share): the min-trades guardrail."""
    counts: dict[str, int] = {}
    for o in outcomes:
        for name, share in o.shares.items():
            if share != 0.0:
                counts[name] = counts.get(name, 0) + 1
    return counts


def strategy_series(
    *, outcomes: Sequence[AttributedOutcome], strategies: Iterable[str], window: int
) -> dict[str, list[tuple[float, float]]]:
    """Per strategy, its ``(x, |share|)`` pairs over the window, newest first.

    Walks the outcomes backwards and stops as soon as every strategy has a full window, so the cost
    is bounded by the window, not by the whole history.
    """
    want = set(strategies)
    series: dict[str, list[tuple[float, float]]] = {name: [] for name in want}
    open_ = set(want)
    for o in reversed(outcomes):
        if not open_:
            break
        for name, share in o.shares.items():
            if name in open_ and share != 0.0:
                lst = series[name]
                lst.append((math.copysign(1.0, share) * o.roi, abs(share)))
                if len(lst) >= window:
                    open_.discard(name)
    return series


def reward_compute(*, series: Sequence[tuple[float, float]], config: RewardConfig) -> Decimal:
    """The reward of one strategy from its ``(x, |share|)`` pairs, newest first (see module doc)."""
    pairs = list(series[: config.window])
    if not pairs:
        return Decimal(0)
    c = [share * config.decay**k for k, (_, share) in enumerate(pairs)]
    x = [xk for xk, _ in pairs]
    total = math.fsum(c)
    if total <= 0.0:
        return Decimal(0)
    mu = math.fsum(ci * xi for ci, xi in zip(c, x, strict=True)) / total
    if config.kind is RewardKind.SHARPE:
        var = math.fsum(ci * (xi - mu) ** 2 for ci, xi in zip(c, x, strict=True)) / total
        value = mu / max(math.sqrt(var), config.min_std)
    else:
        value = mu
    if config.drawdown_penalty > 0.0:
        value -= config.drawdown_penalty * max_drawdown(list(reversed(x)))
    value = max(-config.clip, min(config.clip, value))
    return reward_quantize(value)


def rewards_compute(
    *, outcomes: Sequence[AttributedOutcome], strategies: Iterable[str], config: RewardConfig
) -> dict[str, Decimal]:
    """Rewards of ``strategies`` (a strategy with no outcome gets 0)."""
    series = strategy_series(outcomes=outcomes, strategies=strategies, window=config.window)
    return {name: reward_compute(series=s, config=config) for name, s in sorted(series.items())}


def max_drawdown(returns_oldest_first: Sequence[float]) -> float:
    """Largest fall of the running sum from its running peak (0 when it never falls)."""
    peak = level = 0.0
    worst = 0.0
    for r in returns_oldest_first:
        level += r
        peak = max(peak, level)
        worst = max(worst, peak - level)
    return worst


def reward_quantize(value: float) -> Decimal:
    """8 decimals via the float's shortest repr: a value stored as a float reads back the same."""
    if not math.isfinite(value):
        return Decimal(0)
    return q8(Decimal(repr(value)))
