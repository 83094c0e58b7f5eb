"""Prometheus metrics of the backtesting stage (default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("tradebot_backtest_runs_total", "Backtest runs finished, by status", ["status"])
RUN_SECONDS = Histogram(
    "tradebot_backtest_run_seconds",
    "Wall time of a backtest run (load, replay, write)",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)
BARS_PER_SECOND = Gauge(
    "tradebot_backtest_bars_per_second", "Replay speed of the last finished backtest (engine only)"
)
TRADES = Counter("tradebot_backtest_trades_total", "Trades produced by finished backtests")
NEWS_SCORED_IN_MEMORY = Counter(
    "tradebot_backtest_news_scored_in_memory_total",
    "Articles without stored sentiment that a backtest scored itself",
)
