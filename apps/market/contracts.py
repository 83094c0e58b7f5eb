"""Values of the market stage (no Django imports): a bar as sources and replay hand it around."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar. ``time`` is the bar's open, UTC (daily bars: midnight New York, as Alpaca)."""

    symbol: str
    timeframe: str
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None = None
    trade_count: int | None = None
    source: str = ""
