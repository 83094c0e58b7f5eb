"""Prometheus metrics of the news stage (default registry; see apps/bus/metrics.py).

Rates come from the counters: articles per minute per source is
``rate(tradebot_news_articles_fetched_total[1m]) * 60``; the source error rate is
``rate(tradebot_news_source_errors_total[5m]) / rate(tradebot_news_polls_total[5m])``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

POLLS = Counter(
    "tradebot_news_polls_total",
    "Source polls by outcome (ok, not_modified, error, skipped)",
    ["source", "outcome"],
)
ARTICLES_FETCHED = Counter(
    "tradebot_news_articles_fetched_total",
    "Items a source returned (before de-duplication)",
    ["source"],
)
ARTICLES_STORED = Counter(
    "tradebot_news_articles_stored_total",
    "New articles stored and published to news:raw",
    ["source"],
)
DEDUP_SKIPS = Counter(
    "tradebot_news_dedup_skips_total",
    "Items skipped as duplicates, by what matched (url, content_hash)",
    ["source", "reason"],
)
SOURCE_ERRORS = Counter(
    "tradebot_news_source_errors_total",
    "Failed polls by error kind (timeout, http, too_large, parse, auth, network, config, other)",
    ["source", "kind"],
)
SOURCE_WARNINGS = Counter(
    "tradebot_news_source_warnings_total",
    "Polls that succeeded in a degraded way (e.g. a malformed feed with salvageable items)",
    ["source"],
)
FETCH_SECONDS = Histogram(
    "tradebot_news_fetch_seconds",
    "Time to fetch and parse one source (successful or not)",
    ["source"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
