"""The live stage functions, as the backtester calls them.

Nothing here re-implements a stage: strategies come from the live registry, decisions from the live
ensemble (:func:`apps.strategies.ensemble.ensemble_combine`), credit from the live attribution
(:mod:`apps.learning.attribution`), rewards and weight updates from the live learning maths. This
module only adapts their inputs (whole arrays, in-memory outcome lists) to the engine's loop.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.execution.risk import (
    Holding,
    Portfolio,
    RiskConfig,
    SignalInput,
    TradingState,
    order_intent,
)
from apps.learning.attribution import Contribution, attribution_compute
from apps.learning.engine import LearningConfig, cycle_due, learning_step
from apps.learning.numbers import q8
from apps.learning.reward import AttributedOutcome
from apps.strategies.base import FloatArray, Strategy
from apps.strategies.ensemble import CONTRIBUTION_DECIMALS, EnsembleConfig, ensemble_combine
from apps.strategies.registry import strategy_build
from backtesting.config import StrategySpec
from backtesting.reference import SmaCross

log = logging.getLogger(__name__)

# Strategies only the backtester knows (the parity/benchmark reference); the rest are live ones.
LOCAL_STRATEGIES: dict[str, type[Strategy]] = {SmaCross.name: SmaCross}


def strategies_build(specs: Sequence[StrategySpec]) -> dict[str, Strategy]:
    """Instantiate the configured strategies through the live registry (or the local reference)."""
    out: dict[str, Strategy] = {}
    for spec in specs:
        local = LOCAL_STRATEGIES.get(spec.name)
        out[spec.name] = (
            local.from_params(dict(spec.params))
            if local is not None
            else strategy_build(spec.name, dict(spec.params))
        )
    return out


def directions_compute(
    scores: Mapping[str, FloatArray], weights: Mapping[str, float], config: EnsembleConfig
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """The live ensemble's decision (+1 long, 0 flat, -1 short) and strength on every bar."""
    result = ensemble_combine(scores, weights, config)
    return result.direction, result.strength


def risk_entry(
    *,
    ticker: str,
    direction: int,
    strength: float,
    price: float,
    atr: float | None,
    equity: float,
    cash: float,
    holdings: Mapping[str, tuple[float, float]],
    halted: bool,
    config: RiskConfig,
) -> tuple[int, float | None, float | None, str]:
    """The live risk manager's entry decision: (whole shares, stop price, trail percent of a
    trailing stop, reason); 0 shares when it declines."""
    portfolio = Portfolio(
        equity=equity,
        cash=cash,
        holdings={t: Holding(qty=q, price=p) for t, (q, p) in holdings.items()},
    )
    decision = order_intent(
        signal=SignalInput(
            ticker=ticker,
            direction=direction,
            strength=strength,
            price=price,
            atr=atr if atr is not None and np.isfinite(atr) else None,
        ),
        portfolio=portfolio,
        state=TradingState.HALTED if halted else TradingState.ACTIVE,
        config=config,
    )
    intent = decision.intent
    if intent is None or intent.purpose != "entry":
        return 0, None, None, decision.reason
    return intent.qty, intent.stop_price, intent.trail_percent, decision.reason


def contributions_at(
    scores: Mapping[str, FloatArray], weights: Mapping[str, float], index: int
) -> tuple[Contribution, ...]:
    """Each strategy's part in the decision at bar ``index`` (NaN score = no opinion = 0), with
    the score as a live signal stores it (``CONTRIBUTION_DECIMALS``)."""
    out = []
    for name in sorted(scores):
        s = float(scores[name][index])
        out.append(
            Contribution(
                strategy=name,
                score=round(s, CONTRIBUTION_DECIMALS) if np.isfinite(s) else 0.0,
                weight=float(weights[name]),
            )
        )
    return tuple(out)


def shares_compute(*, direction: int, contributions: Sequence[Contribution]) -> dict[str, float]:
    """Signed credit shares of a trade (live attribution)."""
    return attribution_compute(
        direction="long" if direction > 0 else "short", contributions=contributions
    )


@dataclass
class WeightRecord:
    at: datetime
    weights: dict[str, float]
    reason: str
    rewards: dict[str, float] = field(default_factory=dict)


class Learner:
    """In-memory learning with the live maths: the attributed outcomes of closed trades, oldest
    first, and after a close, when the live cadence rule (:func:`apps.learning.engine.cycle_due`)
    allows, one :func:`apps.learning.engine.learning_step` (rewards, then the guarded update).
    Weights are the live 8-decimal Decimals, handed to the ensemble as
    floats."""

    def __init__(self, *, weights: Mapping[str, float], params: Mapping[str, Any]) -> None:
        defaults = LearningConfig().to_dict()
        merged = {
            k: {**defaults[k], **dict(params.get(k) or {})} for k in ("reward", "update", "cadence")
        }
        self.config = LearningConfig.from_dict(merged)
        self.last_cycle_at: datetime | None = None
        total = sum(weights.values()) or 1.0
        self.weights: dict[str, Decimal] = _weights_decimal(
            {n: w / total for n, w in weights.items()}
        )
        self.outcomes: list[AttributedOutcome] = []
        self._order: list[tuple[datetime, str]] = []  # (closed_at, ticker) of each outcome
        self.counts: dict[str, int] = {}
        self.history: list[WeightRecord] = []
        # the weights and cycle time before the last applied cycle, to redo it when another
        # close of the same instant arrives
        self._before: tuple[dict[str, Decimal], datetime | None] = (dict(self.weights), None)

    def float_weights(self) -> dict[str, float]:
        return {n: float(w) for n, w in self.weights.items()}

    def observe(
        self, *, roi: float, shares: Mapping[str, float], closed_at: datetime, ticker: str = ""
    ) -> bool:
        """Record one closed trade, run a cycle when one is due; True when the weights changed
        (the new ones are :attr:`weights`, the records :attr:`history`).

        Live, every close of one instant is recorded before the cycle it triggers runs (the fills
        of one session open are synced together). Here closes arrive one by one, so a close at the
        instant of the last applied cycle undoes that cycle and runs it again with every outcome of
        the instant; no decision lies between them (decisions come after the fills of a bar).
        """
        # live's order of outcomes: by close time, then ticker (one close per ticker an instant)
        at = bisect.bisect_right(self._order, (closed_at, ticker))
        self._order.insert(at, (closed_at, ticker))
        self.outcomes.insert(
            at, AttributedOutcome(roi=roi, shares=dict(shares), closed_at=closed_at)
        )
        for name, share in shares.items():
            if share != 0.0:
                self.counts[name] = self.counts.get(name, 0) + 1
        start = dict(self.weights)
        if self.last_cycle_at is not None and closed_at == self.last_cycle_at:
            self.weights, self.last_cycle_at = dict(self._before[0]), self._before[1]
            if self.history and self.history[-1].at == closed_at:
                self.history.pop()
        # the live cadence rule on the backtest's clock (the close's market time); an outcome that
        # comes too soon waits for the next cycle, as it does live
        if cycle_due(
            last_cycle_at=self.last_cycle_at,
            now=closed_at,
            min_interval_s=self.config.min_interval_s,
        ):
            self._cycle(closed_at)
        return self.weights != start

    def _cycle(self, closed_at: datetime) -> None:
        step = learning_step(
            weights=self.weights,
            outcomes=self.outcomes,
            config=self.config,
            trade_counts=self.counts,
        )
        if not step.update.applied:
            return
        self._before = (dict(self.weights), self.last_cycle_at)
        self.last_cycle_at = closed_at
        new = step.update.weights
        if new == self.weights:
            return
        self.weights = dict(new)
        reasons = [
            f"{c.strategy}: {step.reason(c, self.config.reward.kind)}" for c in step.update.changes
        ]
        self.history.append(
            WeightRecord(
                at=closed_at,
                weights=self.float_weights(),
                reason="; ".join(reasons)[:500],
                rewards={n: float(r) for n, r in step.rewards.items()},
            )
        )


def _weights_decimal(weights: Mapping[str, float]) -> dict[str, Decimal]:
    """Floats to 8-decimal weights summing to exactly 1 (the remainder goes to the first name)."""
    names = sorted(weights)
    out = {n: q8(Decimal(repr(float(weights[n])))) for n in names}
    if names:
        out[names[0]] += Decimal(1) - sum(out.values(), Decimal(0))
    return out
