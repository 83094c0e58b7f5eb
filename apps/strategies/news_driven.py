"""News-driven: point-in-time news sentiment per ticker, decayed with age, weighted by confidence."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from apps.strategies.base import FloatArray, IntArray, MarketFrame, Strategy, StrategyConfig

_NS_PER_HOUR = 3_600_000_000_000


@dataclass(frozen=True)
class NewsDrivenConfig(StrategyConfig):
    half_life_hours: float = 24.0  # an item's weight halves every half_life_hours
    max_age_hours: float = 96.0  # older items are ignored entirely
    min_confidence: float = 0.0  # items below this confidence are ignored
    saturation: float = 1.5  # total weight at which coverage reaches 1 - 1/e
    gain: float = 1.5  # amplifies the (usually modest) mean sentiment before tanh


@dataclass(frozen=True)
class SentimentAggregate:
    """Per bar: decayed, confidence-weighted mean sentiment and the total weight behind it."""

    mean: FloatArray  # NaN where no item is visible within max_age
    weight: FloatArray  # sum of decayed confidence weights (0 where none)
    count: FloatArray  # how many items contributed


def sentiment_aggregate(frame: MarketFrame, config: NewsDrivenConfig) -> SentimentAggregate:
    """Aggregate the items visible at each bar time (``visible_at <= time``), vectorised.

    For bar ``k`` the items with ``time[k] - max_age <= visible_at <= time[k]`` are found with two
    binary searches; the (bar, item) pairs are expanded with ``np.repeat`` and reduced with
    ``np.bincount``. Cost is O(bars + pairs); pairs = bars x items inside the window.
    """
    n = len(frame)
    s = frame.sentiment
    keep = (
        np.isfinite(s.score) & np.isfinite(s.confidence) & (s.confidence >= config.min_confidence)
    )
    v = s.visible_at[keep]
    score = s.score[keep]
    conf = s.confidence[keep]
    if n == 0 or v.size == 0:
        return SentimentAggregate(np.full(n, np.nan), np.zeros(n), np.zeros(n))
    max_age = int(config.max_age_hours * _NS_PER_HOUR)
    hi = np.searchsorted(v, frame.time, side="right")
    lo = np.searchsorted(v, frame.time - max_age, side="left")
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total == 0:
        return SentimentAggregate(np.full(n, np.nan), np.zeros(n), np.zeros(n))
    bar_idx = np.repeat(np.arange(n), counts)
    starts = np.cumsum(counts) - counts
    item_idx = lo[bar_idx] + (np.arange(total) - np.repeat(starts, counts))
    age_h = (frame.time[bar_idx] - v[item_idx]) / _NS_PER_HOUR
    w = conf[item_idx] * np.power(0.5, age_h / config.half_life_hours)
    wsum = np.bincount(bar_idx, weights=w, minlength=n)
    wscore = np.bincount(bar_idx, weights=w * score[item_idx], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(wsum > 0, wscore / wsum, np.nan)
    return SentimentAggregate(
        np.asarray(mean, dtype=np.float64),
        np.asarray(wsum, dtype=np.float64),
        counts.astype(np.float64),
    )


def news_view(frame: MarketFrame, decided_ns: IntArray) -> MarketFrame:
    """The frame a news strategy scores: news aggregated at each bar's *decision* time (a bar is
    stamped with its open; its decision is made when it is complete), the one aggregation time of
    live (``decided_ns`` ends with the decision's ``at``) and the backtester (every bar's)."""
    return replace(frame, time=decided_ns)


class NewsDriven(Strategy):
    """Follows the decayed news mood: positive news -> long, negative -> short.

    score = tanh(gain * mean) * coverage, where ``mean`` is the decayed, confidence-weighted mean
    sentiment of the items visible at the bar and ``coverage = 1 - exp(-weight / saturation)`` so a
    single old, unsure item moves the score less than a burst of fresh confident ones. NaN where no
    item is visible (the ensemble then re-normalises over the strategies that have an opinion).
    """

    name = "news_driven"
    version = 1
    config_class = NewsDrivenConfig
    config: NewsDrivenConfig

    def scores(self, frame: MarketFrame) -> FloatArray:
        agg = sentiment_aggregate(frame, self.config)
        coverage = 1.0 - np.exp(-agg.weight / self.config.saturation)
        return np.asarray(np.tanh(self.config.gain * agg.mean) * coverage, dtype=np.float64)
