"""Point-in-time market data as strategies see it: bars of one ticker plus visible sentiment.

Built by the market stage (``apps.market.selectors``) and the backtester's loaders, consumed by the
strategies (``apps.strategies.base`` re-exports these types as part of the strategy interface).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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
