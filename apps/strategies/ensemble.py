"""Weighted ensemble (pure): per-strategy scores + weights -> direction, strength, contributions.

Vectorised over bars: the backtester calls :func:`ensemble_combine` once on whole score series;
the live pipeline calls it on a recent window and reads the last bar with :meth:`EnsembleResult.at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from apps.strategies.base import FloatArray, MarketFrame, Strategy, guarded_scores
from apps.strategies.contracts import Direction, StrategyContribution

# A signal stores each strategy's score to this many decimals; learning attributes a trade from
# the stored scores, so the backtester rounds the same way before it attributes.
CONTRIBUTION_DECIMALS = 6

LONG, FLAT, SHORT = 1, 0, -1


@dataclass(frozen=True)
class EnsembleConfig:
    long_threshold: float = 0.15  # combined score >= this -> LONG
    short_threshold: float = 0.15  # combined score <= -this -> SHORT
    min_coverage: float = 0.3  # share of total weight that must have an opinion (non-NaN score)


@dataclass(frozen=True)
class Decision:
    """The ensemble's decision at one bar."""

    direction: Direction
    strength: float  # |combined| clipped to [0, 1]
    combined: float  # signed combined score (NaN when nothing had an opinion)
    contributions: tuple[StrategyContribution, ...]


@dataclass(frozen=True)
class EnsembleResult:
    combined: FloatArray  # per bar, NaN where coverage < min_coverage
    direction: npt.NDArray[np.int8]  # +1 long, 0 flat, -1 short
    strength: FloatArray  # in [0, 1]
    contributions: dict[str, FloatArray]  # weight_i * score_i / sum(weights with an opinion)
    scores: dict[str, FloatArray]  # the raw per-strategy scores (NaN = no opinion)
    weights: dict[str, float]

    def at(self, index: int) -> Decision:
        d = int(self.direction[index])
        direction = (
            Direction.LONG if d == LONG else Direction.SHORT if d == SHORT else Direction.FLAT
        )
        c = float(self.combined[index])
        return Decision(
            direction=direction,
            strength=float(self.strength[index]),
            combined=c,
            contributions=tuple(
                StrategyContribution(
                    strategy=name,
                    score=float(np.nan_to_num(self.scores[name][index], nan=0.0)),
                    weight=float(self.weights[name]),
                )
                for name in sorted(self.scores)
            ),
        )


def ensemble_combine(
    scores: Mapping[str, FloatArray],
    weights: Mapping[str, float],
    config: EnsembleConfig | None = None,
) -> EnsembleResult:
    """Combine strategy score series with weights.

    combined[t] = sum_i w_i * s_i[t] / sum_i w_i, summing over the strategies that have an opinion
    at t (finite score); a strategy without one (warm-up, no news) neither pulls the score to zero
    nor takes weight. If the weight with an opinion is below ``min_coverage`` of the total, the bar
    is FLAT with NaN combined score. Strategies missing from ``weights`` get weight 0.
    """
    cfg = config or EnsembleConfig()
    names = sorted(scores)
    if not names:
        raise ValueError("ensemble_combine needs at least one strategy")
    n = len(scores[names[0]])
    w = np.array([max(float(weights.get(name, 0.0)), 0.0) for name in names])
    s = np.vstack([np.asarray(scores[name], dtype=np.float64).reshape(n) for name in names])
    has = np.isfinite(s)
    s0 = np.where(has, np.clip(s, -1.0, 1.0), 0.0)
    w_avail = (has * w[:, None]).sum(axis=0)
    total_w = float(w.sum())
    ok = (w_avail > 0) & (w_avail >= cfg.min_coverage * total_w)
    denom = np.where(ok, w_avail, 1.0)
    contrib = s0 * w[:, None] / denom
    combined = np.where(ok, contrib.sum(axis=0), np.nan)
    direction = np.zeros(n, dtype=np.int8)
    direction[ok & (combined >= cfg.long_threshold)] = LONG
    direction[ok & (combined <= -cfg.short_threshold)] = SHORT
    strength = np.where(ok, np.clip(np.abs(np.nan_to_num(combined)), 0.0, 1.0), 0.0)
    return EnsembleResult(
        combined=combined,
        direction=direction,
        strength=strength,
        contributions={name: np.where(ok, contrib[i], 0.0) for i, name in enumerate(names)},
        scores={name: s[i] for i, name in enumerate(names)},
        weights={name: float(w[i]) for i, name in enumerate(names)},
    )


def strategies_score(
    strategies: Mapping[str, Strategy], frame: MarketFrame
) -> dict[str, FloatArray]:
    """Every strategy's score series on ``frame``, each through the failure guard."""
    return {name: guarded_scores(strategy, frame) for name, strategy in strategies.items()}
