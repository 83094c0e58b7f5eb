"""Momentum: trend following on closes (volatility-scaled rate of change, confirmed by MACD)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from apps.market.indicators import ema_span_window, rolling_std
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
    ema_memory: float = 4.0  # each EMA reads the last ceil(ema_memory x span) bars


class Momentum(Strategy):
    """Long when price has trended up relative to its own volatility, short when down.

    ``roc`` is ta's rate of change over ``lookback`` bars, divided by the volatility expected over
    that horizon (stdev of log returns * sqrt(lookback)), so the same threshold means the same thing
    for a quiet utility and a volatile chip maker. MACD's histogram (also scaled by volatility)
    adds a faster confirmation term. Every input is a finite trailing window (the EMAs are cut at
    ``ema_memory`` spans, :func:`apps.market.indicators.ema_span_window`): causal by construction,
    and a score depends only on the bars inside its windows, so live (the last
    ``SIGNALS_LOOKBACK_BARS`` bars) and a backtest (the whole history) compute the same number.
    """

    name = "momentum"
    version = 2  # v2: finite-window EMAs and volatility (bit-identical on any truncation)
    config_class = MomentumConfig
    config: MomentumConfig

    def _lengths(self) -> tuple[int, int]:
        c = self.config
        slow = math.ceil(c.ema_memory * c.macd_slow)
        signal = math.ceil(c.ema_memory * c.macd_signal)
        return slow, signal

    def warmup(self) -> int:
        c = self.config
        slow, signal = self._lengths()
        return max(c.lookback, c.vol_window + 1, slow + signal - 1) + 1

    def scores(self, frame: MarketFrame) -> FloatArray:
        c = self.config
        close = frame.close.astype(np.float64)
        n = close.shape[0]
        roc = np.full(n, np.nan)
        if n > c.lookback:
            roc[c.lookback :] = close[c.lookback :] / close[: -c.lookback] - 1.0
        log_ret = np.r_[np.nan, np.diff(np.log(close))] if n else np.empty(0)
        vol = rolling_std(log_ret, c.vol_window)
        macd = ema_span_window(close, c.macd_fast, c.ema_memory) - ema_span_window(
            close, c.macd_slow, c.ema_memory
        )
        signal = np.full(n, np.nan)
        first = np.flatnonzero(np.isfinite(macd))
        if first.shape[0]:
            k = int(first[0])
            signal[k:] = ema_span_window(macd[k:], c.macd_signal, c.ema_memory)
        macd_hist = macd - signal
        with np.errstate(divide="ignore", invalid="ignore"):
            z = roc / (vol * np.sqrt(c.lookback))
            hist_z = macd_hist / (close * vol)
        score = (1.0 - c.macd_weight) * np.tanh(z / c.z_scale) + c.macd_weight * np.tanh(hist_z)
        score[~np.isfinite(score)] = np.nan
        score[: min(self.warmup(), len(score))] = np.nan
        return np.asarray(score, dtype=np.float64)
