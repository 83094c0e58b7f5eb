"""Helpers of the backtest tests: synthetic frames and a scripted strategy."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from apps.strategies.base import MarketFrame, SentimentSeries, Strategy, StrategyConfig
from backtesting.data import NS_PER_S, frame_build, to_ns

DAY_NS = 86_400 * NS_PER_S
T0 = datetime(2020, 1, 1, tzinfo=UTC)


def daily_frame(ticker, opens, closes=None, highs=None, lows=None, volume=1e6, sentiment=None):
    o = np.asarray(opens, dtype=float)
    c = np.asarray(closes if closes is not None else o + 0.5, dtype=float)
    h = np.asarray(highs if highs is not None else np.maximum(o, c) + 0.25, dtype=float)
    lo = np.asarray(lows if lows is not None else np.minimum(o, c) - 0.25, dtype=float)
    n = o.shape[0]
    return frame_build(
        ticker=ticker,
        time=to_ns(T0) + np.arange(n, dtype=np.int64) * DAY_NS,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=np.full(n, float(volume)),
        sentiment=sentiment or SentimentSeries.empty(),
    )


def random_walk(ticker, n, seed, start=100.0):
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    opens = np.r_[start, close[:-1]] * np.exp(rng.normal(0, 0.003, n))
    highs = np.maximum(opens, close) * (1 + rng.uniform(0, 0.01, n))
    lows = np.minimum(opens, close) * (1 - rng.uniform(0, 0.01, n))
    return daily_frame(ticker, opens, close, highs, lows, volume=2e6)


@dataclass(frozen=True)
class ScriptConfig(StrategyConfig):
    by_ticker: tuple[Any, ...] = ()  # ((ticker, scores tuple), ...)


class Scripted(Strategy):
    """Scores given per ticker (tests only)."""

    name = "scripted"
    config_class = ScriptConfig
    config: ScriptConfig

    def scores(self, frame: MarketFrame):
        table = dict(self.config.by_ticker)
        return np.asarray(table[frame.ticker], dtype=float)[: len(frame)]


def scripted(**by_ticker):
    return Scripted(ScriptConfig(by_ticker=tuple((k, tuple(v)) for k, v in by_ticker.items())))


class Oracle(Strategy):
    """Knows the next open-to-open move, the one a fill at the next open earns (a deliberately
    non-causal edge, for the learning tests only)."""

    name = "oracle"

    def scores(self, frame: MarketFrame):
        nxt = np.r_[frame.open[2:] - frame.open[1:-1], 0.0, 0.0]
        return np.sign(nxt)


class Noise(Strategy):
    name = "noise"

    def scores(self, frame: MarketFrame):
        rng = np.random.default_rng(len(frame) * 7 + ord(frame.ticker[0]))
        return rng.choice([-1.0, 0.0, 1.0], size=len(frame))


@pytest.fixture
def walk3():
    return {t: random_walk(t, 400, seed) for seed, t in enumerate(("AAA", "BBB", "CCC"), start=1)}
