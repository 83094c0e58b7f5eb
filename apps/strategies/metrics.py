"""Prometheus metrics of the signals stage (default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SIGNALS_GENERATED = Counter(
    "tradebot_signals_generated_total", "Signals persisted by the ensemble", ["direction"]
)
STRATEGY_SIGNALS = Counter(
    "tradebot_signals_strategy_total",
    "Signals each strategy had an opinion in (finite score), by the sign of its score",
    ["strategy", "lean"],
)
STRATEGY_FAILURES = Counter(
    "tradebot_signals_strategy_failures_total",
    "Strategy runs that raised (scored NaN through the guard)",
    ["strategy"],
)
SIGNALS_SKIPPED = Counter(
    "tradebot_signals_skipped_total", "Signal evaluations skipped, by reason", ["reason"]
)
SIGNAL_SECONDS = Histogram(
    "tradebot_signals_generate_seconds",
    "Time to load data, score every strategy, combine and persist one signal",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
