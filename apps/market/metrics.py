"""Prometheus metrics of the market-data stage (default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BARS_STORED = Counter(
    "tradebot_market_bars_stored_total",
    "Bars written to market_data (inserted or updated), by source and timeframe",
    ["source", "timeframe"],
)
BARS_STREAMED = Counter(
    "tradebot_market_bars_streamed_total", "Live bars received from the data stream", ["timeframe"]
)
BARS_REPLAYED = Counter(
    "tradebot_market_bars_replayed_total", "Bars emitted by the replay clock", ["timeframe"]
)
MISSING_BARS = Gauge(
    "tradebot_market_missing_bars",
    "Expected bars absent from market_data at the last gap check",
    ["symbol", "timeframe"],
)
PRICE_CACHE = Counter(
    "tradebot_market_price_cache_total",
    "Latest-price lookups by outcome (hit, db_fallback, miss)",
    ["outcome"],
)
