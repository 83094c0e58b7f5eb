"""Frames for strategy tests: a seeded random walk and point-in-time news items."""

from __future__ import annotations

import numpy as np

from apps.strategies.base import MarketFrame, SentimentSeries

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
T0 = 1_483_228_800 * 10**9  # 2017-01-01T00:00Z


def random_walk(n: int = 300, seed: int = 7, news: int = 0, ticker: str = "TEST") -> MarketFrame:
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0004, 0.015, n)
    # regimes so that momentum and mean reversion both have something to say
    ret[n // 4 : n // 2] += 0.004
    ret[n // 2 : 3 * n // 4] -= 0.005
    close = 100 * np.exp(np.cumsum(ret))
    open_ = close * (1 + rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, n)))
    time = T0 + np.arange(n, dtype=np.int64) * DAY_NS
    sentiment = SentimentSeries.empty()
    if news:
        # items at arbitrary times of day, some exactly at a bar time (visible at that bar)
        vis = np.sort(T0 + rng.integers(0, n * 24, news).astype(np.int64) * HOUR_NS)
        vis[::7] = T0 + (vis[::7] - T0) // DAY_NS * DAY_NS
        vis = np.sort(vis)
        sentiment = SentimentSeries(vis, rng.uniform(-1, 1, news), rng.uniform(0.2, 1.0, news))
    return MarketFrame(
        ticker=ticker,
        time=time,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=rng.uniform(1e6, 5e6, n),
        sentiment=sentiment,
    )
