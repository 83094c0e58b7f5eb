"""The reference strategy of the parity test and the benchmark, written against our interface.

SMA(fast)/SMA(slow) strict crossover on closes (data/reference SOURCE.md): the score is +1 on the
bar where the fast average crosses above the slow one, -1 where it crosses below, 0 otherwise and
NaN until both averages exist on the previous bar. Through the ensemble (one strategy, weight 1,
default thresholds) that is LONG exactly on ``up[t]`` and SHORT exactly on ``down[t]``; with the
engine's long-only "exit on the opposite signal" policy and next-open fills it is the reference
rule set. Causal: ``scores[t]`` reads closes up to ``t`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.strategies.base import FloatArray, MarketFrame, Strategy, StrategyConfig


def sma(values: FloatArray, window: int) -> FloatArray:
    """Simple moving average by cumulative sums (NaN for the first ``window - 1`` bars).

    Each window is summed from the cumulative sum, so it is O(n) whatever the window; rounding
    differs from a direct sum by a few ulps, far below what could flip a crossover on prices."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window <= 0 or n < window:
        return out
    c = np.cumsum(values, dtype=np.float64)
    out[window - 1] = c[window - 1]
    out[window:] = c[window:] - c[:-window]
    out[window - 1 :] /= window
    return out


def crossover_scores(fast: FloatArray, slow: FloatArray) -> FloatArray:
    """+1 on strict up-crossings, -1 on strict down-crossings, 0 elsewhere, NaN without history."""
    n = fast.shape[0]
    out = np.full(n, np.nan)
    if n < 2:
        return out
    f0, s0, f1, s1 = fast[:-1], slow[:-1], fast[1:], slow[1:]
    with np.errstate(invalid="ignore"):
        up = (f0 < s0) & (f1 > s1)
        down = (f0 > s0) & (f1 < s1)
    valid = np.isfinite(f0) & np.isfinite(s0) & np.isfinite(f1) & np.isfinite(s1)
    body = np.where(up, 1.0, np.where(down, -1.0, 0.0))
    out[1:] = np.where(valid, body, np.nan)
    return out


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
        return crossover_scores(sma(frame.close, c.fast), sma(frame.close, c.slow))
