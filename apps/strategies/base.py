"""The strategy interface, version 1.

A strategy is pure: no ORM, no clock, no broker. It takes a frozen config and a point-in-time
:class:`MarketFrame` (bars, and news sentiment already filtered to what was visible) and returns a
causal score series: ``scores(frame)[t]`` depends only on data at times <= ``frame.time[t]``. The
live pipeline calls it on a recent window and uses the last value; the backtester calls it once on
the whole series. The truncation tests assert ``scores(frame.upto(t))[-1] == scores(frame)[t]``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

INTERFACE_VERSION = 1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SentimentSeries:
    """News sentiment for one ticker, each item stamped with the time it became *visible*."""

    visible_at: IntArray  # ns since epoch, UTC, ascending
    score: FloatArray  # [-1, 1]
    confidence: FloatArray  # [0, 1]

    @staticmethod
    def empty() -> SentimentSeries:
        e = np.empty(0)
        return SentimentSeries(np.empty(0, dtype=np.int64), e, e.copy())


@dataclass(frozen=True)
class MarketFrame:
    """Bars of one ticker and one timeframe, oldest first, plus visible sentiment."""

    ticker: str
    time: IntArray  # bar time, ns since epoch, UTC
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    sentiment: SentimentSeries = field(default_factory=SentimentSeries.empty)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def upto(self, index: int) -> MarketFrame:
        """The frame as it was at bar ``index`` (inclusive): nothing later is visible."""
        end = index + 1
        cutoff = self.time[index]
        n_news = int(np.searchsorted(self.sentiment.visible_at, cutoff, side="right"))
        s = self.sentiment
        return MarketFrame(
            ticker=self.ticker,
            time=self.time[:end],
            open=self.open[:end],
            high=self.high[:end],
            low=self.low[:end],
            close=self.close[:end],
            volume=self.volume[:end],
            sentiment=SentimentSeries(
                s.visible_at[:n_news], s.score[:n_news], s.confidence[:n_news]
            ),
        )


@dataclass(frozen=True)
class StrategyConfig:
    """Base of every strategy's frozen config."""


class Strategy(ABC):
    """One required method: :meth:`scores`."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig | None = None) -> None:
        self.config = config if config is not None else self.config_class()

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> Strategy:
        return cls(cls.config_class(**(params or {})))

    @abstractmethod
    def scores(self, frame: MarketFrame) -> FloatArray:
        """Causal score per bar in [-1, 1]; NaN where there is not enough history."""

    def warmup(self) -> int:
        """Bars of history the strategy needs before its first score."""
        return 0


def guarded_scores(
    strategy: Strategy,
    frame: MarketFrame,
    on_error: Callable[[Strategy, BaseException], None] | None = None,
) -> FloatArray:
    """Run a strategy so that one failing strategy cannot stop the others (it scores NaN).

    ``on_error`` (optional) is told about the failure, e.g. to count it in a metric.
    """
    try:
        out = np.asarray(strategy.scores(frame), dtype=np.float64)
        if out.shape != (len(frame),):
            raise ValueError(f"scores shape {out.shape} != ({len(frame)},)")
        return np.clip(out, -1.0, 1.0)
    except Exception as exc:
        if on_error is not None:
            on_error(strategy, exc)
        log.exception(
            "strategy %s v%s failed on %s; scoring NaN",
            strategy.name,
            strategy.version,
            frame.ticker,
        )
        return np.full(len(frame), np.nan)
