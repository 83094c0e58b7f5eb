"""The reference strategy of the parity test and the benchmark, written against our interface.

SMA(fast)/SMA(slow) strict crossover on closes (data/reference SOURCE.md), the averages compared as
exact arithmetic would (a tie is no crossing): the score is +1 on the bar where the fast average
crosses above the slow one, -1 where it crosses below, 0 otherwise and NaN until both averages exist
on the previous bar. Through the ensemble (one strategy, weight 1, default thresholds) that is LONG
exactly on ``up[t]`` and SHORT exactly on ``down[t]``; with the engine's long-only "exit on the
opposite signal" policy and next-open fills it is the reference rule set. Causal: ``scores[t]``
reads closes up to ``t`` only.
"""

from __future__ import annotations

__all__ = ["SmaCross", "SmaCrossConfig", "crossover_scores", "sma"]

from dataclasses import dataclass

from apps.market.indicators import crossings, mean_order, sma
from apps.strategies.base import FloatArray, MarketFrame, Strategy, StrategyConfig


def crossover_scores(close: FloatArray, fast: int, slow: int) -> FloatArray:
    """+1 on strict up-crossings of SMA(fast) over SMA(slow), -1 on strict down-crossings, 0
    elsewhere (a tie on either side is no crossing), NaN without history; the averages are
    compared as exact arithmetic would (:func:`apps.market.indicators.mean_order`)."""
    return crossings(mean_order(close, fast, slow))


@dataclass(frozen=True)
class SmaCrossConfig(StrategyConfig):
    fast: int = 10
    slow: int = 20


class SmaCross(Strategy):
    """Crossover events of two simple moving averages of closes."""

    name = "sma_cross"
    version = 1
    config_class = SmaCrossConfig
    config: SmaCrossConfig

    def warmup(self) -> int:
        return self.config.slow + 1

    def scores(self, frame: MarketFrame) -> FloatArray:
        c = self.config
        return crossover_scores(frame.close, c.fast, c.slow)
