"""Mean reversion: fades stretched moves (RSI and the position inside the Bollinger bands)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from apps.market.indicators import ewm_window, rolling_mean, rolling_std
from apps.strategies.base import FloatArray, MarketFrame, Strategy, StrategyConfig


@dataclass(frozen=True)
class MeanReversionConfig(StrategyConfig):
    rsi_window: int = 14
    rsi_band: float = 20.0  # RSI 50 -/+ rsi_band maps to a full +1/-1
    bb_window: int = 20
    bb_dev: float = 2.0
    rsi_weight: float = 0.5  # the rest goes to the Bollinger term
    rsi_memory: float = 4.0  # the RSI's averages read the last ceil(rsi_memory x rsi_window) bars


class MeanReversion(Strategy):
    """Buy oversold, sell overbought.

    RSI below ``50 - rsi_band`` scores +1 (oversold: expect a bounce), above ``50 + rsi_band``
    scores -1. The Bollinger %B term scores +1 at the lower band and -1 at the upper band.
    Both indicators are finite trailing windows (:mod:`apps.market.indicators`): a score depends
    only on the bars inside them, so live and a backtest compute the same number.
    """

    name = "mean_reversion"
    version = 2  # v2: finite-window RSI and bands (bit-identical on any truncation)
    config_class = MeanReversionConfig
    config: MeanReversionConfig

    def warmup(self) -> int:
        c = self.config
        return max(math.ceil(c.rsi_memory * c.rsi_window) + 1, c.bb_window) + 1

    def scores(self, frame: MarketFrame) -> FloatArray:
        c = self.config
        close = frame.close.astype(np.float64)
        n = close.shape[0]
        delta = np.r_[np.nan, np.diff(close)] if n else np.empty(0)
        gain = np.where(delta > 0, delta, 0.0)
        loss = np.where(delta < 0, -delta, 0.0)
        gain[:1] = loss[:1] = np.nan
        # Wilder's smoothing (alpha = 1/window), cut at rsi_memory windows
        length = math.ceil(c.rsi_memory * c.rsi_window)
        avg_gain = np.full(n, np.nan)
        avg_loss = np.full(n, np.nan)
        if n > 1:
            avg_gain[1:] = ewm_window(gain[1:], 1.0 / c.rsi_window, length)
            avg_loss[1:] = ewm_window(loss[1:], 1.0 / c.rsi_window, length)
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = np.where(avg_loss > 0, 100.0 - 100.0 / (1.0 + avg_gain / avg_loss), 100.0)
        rsi[~np.isfinite(avg_gain)] = np.nan
        mid = rolling_mean(close, c.bb_window)
        dev = rolling_std(close, c.bb_window, ddof=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            pband = (close - (mid - c.bb_dev * dev)) / (2.0 * c.bb_dev * dev)
        rsi_score = np.clip((50.0 - rsi) / c.rsi_band, -1.0, 1.0)
        bb_score = np.clip(1.0 - 2.0 * pband, -1.0, 1.0)
        score = c.rsi_weight * rsi_score + (1.0 - c.rsi_weight) * bb_score
        score[~np.isfinite(score)] = np.nan
        score[: min(self.warmup(), len(score))] = np.nan
        return np.asarray(score, dtype=np.float64)
