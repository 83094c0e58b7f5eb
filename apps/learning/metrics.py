"""Prometheus metrics of the learning stage (default registry, ``tradebot_learning_*``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTCOMES = Counter(
    "tradebot_learning_outcomes_total",
    "Closed positions seen by the learning consumer, by result (win, loss, duplicate, skipped)",
    ["result"],
)
CYCLES = Counter(
    "tradebot_learning_cycles_total",
    "Learning cycles by outcome (applied, frozen, no_new_outcomes, no_eligible, infeasible)",
    ["outcome"],
)
ADJUSTMENTS = Counter(
    "tradebot_learning_adjustments_total",
    "Weight adjustments written (adjustment frequency), per strategy and kind (update, reset)",
    ["strategy", "kind"],
)
WEIGHT_DRIFT = Histogram(
    "tradebot_learning_weight_drift",
    "Magnitude |new - old| of each weight adjustment",
    ["strategy"],
    buckets=(0.0, 0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0),
)
WEIGHT_DRIFT_LAST = Gauge(
    "tradebot_learning_weight_drift_last",
    "Signed weight change of the strategy's latest adjustment",
    ["strategy"],
)
WEIGHT = Gauge("tradebot_learning_weight", "Current ensemble weight per strategy", ["strategy"])
REWARD = Gauge(
    "tradebot_learning_reward", "Reward of the strategy in the latest cycle", ["strategy"]
)
FROZEN = Gauge("tradebot_learning_frozen", "1 while learning is frozen")
PORTFOLIO_VALUE = Gauge("tradebot_learning_portfolio_value", "Latest snapshot's value", ["broker"])
PORTFOLIO_DRAWDOWN = Gauge(
    "tradebot_learning_portfolio_drawdown", "Latest snapshot's drawdown (fraction)", ["broker"]
)
SNAPSHOTS = Counter(
    "tradebot_learning_snapshots_total",
    "Portfolio snapshots by source (broker, database = degraded fallback)",
    ["source"],
)
