"""Momentum: trend following on closes (volatility-scaled rate of change, confirmed by MACD)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ta.momentum import ROCIndicator
from ta.trend import MACD

from apps.strategies.base import FloatArray, MarketFrame, Strategy, StrategyConfig


@dataclass(frozen=True)
class MomentumConfig(StrategyConfig):
    lookback: int = 20  # bars of rate of change
    vol_window: int = 20  # bars of return volatility used to scale the rate of change
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    z_scale: float = 2.0  # a move of z_scale sigmas maps to tanh(1) ~ 0.76
    macd_weight: float = 0.35  # share of the MACD-histogram term in the score


class Momentum(Strategy):
    """Long when price has trended up relative to its own volatility, short when down.

    ``roc`` is ta's rate of change over ``lookback`` bars, divided by the volatility expected over
    that horizon (stdev of log returns * sqrt(lookback)), so the same threshold means the same thing
    for a quiet utility and a volatile chip maker. MACD's histogram (also scaled by volatility)
    adds a faster confirmation term. Every input is a trailing window or a forward-only EWM:
    causal by construction.
    """

    name = "momentum"
    version = 1
    config_class = MomentumConfig
    config: MomentumConfig

    def warmup(self) -> int:
        c = self.config
        return max(c.lookback, c.vol_window, c.macd_slow + c.macd_signal) + 1

    def scores(self, frame: MarketFrame) -> FloatArray:
        c = self.config
        close = pd.Series(frame.close, dtype="float64")
        roc = ROCIndicator(close, window=c.lookback).roc().to_numpy() / 100.0
        log_ret = np.log(close).diff()
        vol = log_ret.rolling(c.vol_window, min_periods=c.vol_window).std().to_numpy()
        macd_hist = (
            MACD(close, window_slow=c.macd_slow, window_fast=c.macd_fast, window_sign=c.macd_signal)
            .macd_diff()
            .to_numpy()
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            z = roc / (vol * np.sqrt(c.lookback))
            hist_z = macd_hist / (frame.close * vol)
        score = (1.0 - c.macd_weight) * np.tanh(z / c.z_scale) + c.macd_weight * np.tanh(hist_z)
        score[~np.isfinite(score)] = np.nan
        score[: min(self.warmup(), len(score))] = np.nan
        return np.asarray(score, dtype=np.float64)
