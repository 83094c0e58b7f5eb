"""Mean reversion: fades stretched moves (RSI and the position inside the Bollinger bands)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ta.momentum import RSIIndicator
from ta.volatility import BollingerBands

from apps.strategies.base import FloatArray, MarketFrame, Strategy, StrategyConfig


@dataclass(frozen=True)
class MeanReversionConfig(StrategyConfig):
    rsi_window: int = 14
    rsi_band: float = 20.0  # RSI 50 -/+ rsi_band maps to a full +1/-1
    bb_window: int = 20
    bb_dev: float = 2.0
    rsi_weight: float = 0.5  # the rest goes to the Bollinger term


class MeanReversion(Strategy):
    """Buy oversold, sell overbought.

    RSI below ``50 - rsi_band`` scores +1 (oversold: expect a bounce), above ``50 + rsi_band``
    scores -1. The Bollinger %B term scores +1 at the lower band and -1 at the upper band.
    Both indicators come from ``ta`` and use trailing windows / forward-only EWMs only.
    """

    name = "mean_reversion"
    version = 1
    config_class = MeanReversionConfig
    config: MeanReversionConfig

    def warmup(self) -> int:
        return max(self.config.rsi_window, self.config.bb_window) + 1

    def scores(self, frame: MarketFrame) -> FloatArray:
        c = self.config
        close = pd.Series(frame.close, dtype="float64")
        rsi = RSIIndicator(close, window=c.rsi_window).rsi().to_numpy()
        # ta's window_dev is typed int but used as a float multiplier.
        pband = (
            BollingerBands(close, window=c.bb_window, window_dev=c.bb_dev)  # type: ignore[arg-type]
            .bollinger_pband()
            .to_numpy()
        )
        rsi_score = np.clip((50.0 - rsi) / c.rsi_band, -1.0, 1.0)
        bb_score = np.clip(1.0 - 2.0 * pband, -1.0, 1.0)
        score = c.rsi_weight * rsi_score + (1.0 - c.rsi_weight) * bb_score
        score[~np.isfinite(score)] = np.nan
        score[: min(self.warmup(), len(score))] = np.nan
        return np.asarray(score, dtype=np.float64)
