"""Prometheus metrics of the execution stage (default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ORDERS_SUBMITTED = Counter(
    "tradebot_execution_orders_submitted_total",
    "Orders sent to a broker",
    ["broker", "side", "purpose"],
)
ORDERS_DEDUPLICATED = Counter(
    "tradebot_execution_orders_deduplicated_total",
    "Submissions skipped because the broker or the database already had that client order id",
    ["broker"],
)
ORDERS_DEFERRED = Counter(
    "tradebot_execution_orders_deferred_total",
    "Sends postponed because the market was closed (sent at the next session by sync_orders)",
    ["broker"],
)
ORDER_REJECTIONS = Counter(
    "tradebot_execution_order_rejections_total", "Orders the broker refused", ["broker"]
)
ORDER_UPDATES = Counter(
    "tradebot_execution_order_updates_total",
    "Order state changes applied (the order state machine)",
    ["broker", "status"],
)
FILL_LATENCY = Histogram(
    "tradebot_execution_fill_latency_seconds",
    "Broker time from submission to complete fill (simulated brokers: simulated clock)",
    ["broker"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400, 4 * 86_400),
)
RISK_DECISIONS = Counter(
    "tradebot_execution_risk_decisions_total",
    "What risk made of a signal: entry, exit, or the reason for no order",
    ["outcome"],
)
RECONCILE_MISMATCHES = Counter(
    "tradebot_execution_reconcile_mismatches_total",
    "Disagreements between local state and the broker found by reconciliation",
    ["broker", "kind"],
)
RECONCILE_LAST_MISMATCHES = Gauge(
    "tradebot_execution_reconcile_last_mismatches",
    "Mismatches found by the latest reconciliation run (0 = in agreement)",
    ["broker"],
)
TRADING_STATE = Gauge(
    "tradebot_execution_trading_state",
    "1 for the current trading state (active, halted, paused) of an account",
    ["account", "state"],
)
