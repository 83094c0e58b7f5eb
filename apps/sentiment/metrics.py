"""Prometheus metrics of the sentiment stage (default registry, ``tradebot_sentiment_*``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# rate(tradebot_sentiment_articles_scored_total[1m]) * 60 = articles scored per minute.
ARTICLES_SCORED = Counter(
    "tradebot_sentiment_articles_scored_total",
    "Articles scored, by the tier whose score was kept (1 or 2)",
    ["tier"],
)
ROUTED = Counter(
    "tradebot_sentiment_routed_total",
    "Articles by route: tier1 (confident), tier2 (sent to the LLM), tier2_skipped (no LLM set up)",
    ["route"],
)
TIER2_OUTCOMES = Counter(
    "tradebot_sentiment_tier2_outcomes_total",
    "Tier-2 (Ollama) calls by outcome: ok, down, timeout, error, invalid, circuit_open",
    ["outcome"],
)
INFERENCE_SECONDS = Histogram(
    "tradebot_sentiment_inference_seconds",
    "Time to score one micro-batch (tier 1) or one item (tier 2)",
    ["tier"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FALLBACK_IN_USE = Gauge(
    "tradebot_sentiment_fallback_in_use",
    "1 while scoring uses the VADER lexicon fallback because no model is available",
)
MODEL_INFO = Gauge(
    "tradebot_sentiment_model_info", "The tier-1 scorer in use (value 1)", ["model_used", "kind"]
)
