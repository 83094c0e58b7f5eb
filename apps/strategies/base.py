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
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from apps.market.frames import FloatArray, IntArray, MarketFrame, SentimentSeries

__all__ = [
    "INTERFACE_VERSION",
    "FloatArray",
    "IntArray",
    "MarketFrame",
    "SentimentSeries",
    "Strategy",
    "StrategyConfig",
    "guarded_scores",
]

log = logging.getLogger(__name__)

INTERFACE_VERSION = 1


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
