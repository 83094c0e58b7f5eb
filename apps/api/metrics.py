"""Prometheus metrics of the API (the web process's /metrics) and the business gauges."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.api.selectors import broker_label, portfolio_summary, strategy_latest_metrics
from apps.strategies.models import Strategy

log = logging.getLogger(__name__)

AUTH_EVENTS = Counter(
    "tradebot_api_auth_events_total",
    "Sign-ins, refreshes, sign-outs, reuse detections and revocations",
    ["event"],
)
PASSKEY_CEREMONIES = Counter(
    "tradebot_api_passkey_ceremonies_total",
    "Passkey ceremonies by kind and outcome",
    ["kind", "outcome"],
)
OVERRIDES = Counter(
    "tradebot_api_overrides_total",
    "Manual overrides by action and outcome (done, replayed, refused)",
    ["action", "outcome"],
)
WS_EVENTS = Counter(
    "tradebot_api_ws_events_total", "Events forwarded to the WebSocket layer", ["type"]
)
WS_CONNECTIONS = Counter(
    "tradebot_api_ws_connections_total",
    "WebSocket connection attempts by outcome",
    ["outcome"],
)
EVENT_BRIDGE_LAG = Histogram(
    "tradebot_api_event_bridge_seconds",
    "From an event's publication on the bus to its forwarding to sockets",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class BusinessCollector(Collector):
    """Portfolio value, daily P&L, drawdown, Sharpe, and per strategy its win rate and weight.

    Read from the database at scrape time (every process reports the same truth, whichever
    worker computed it), cached for a few seconds so frequent scrapes cost one query set.
    """

    NAMES = (
        ("tradebot_portfolio_value", "Portfolio value (latest snapshot)"),
        ("tradebot_portfolio_cash", "Cash (latest snapshot)"),
        ("tradebot_portfolio_daily_pnl", "P&L since the day's start (latest snapshot)"),
        ("tradebot_portfolio_drawdown", "Fraction below the equity peak (latest snapshot)"),
        ("tradebot_portfolio_sharpe", "Annualised Sharpe ratio of daily portfolio returns"),
        ("tradebot_portfolio_roi", "Return since the initial capital (fraction)"),
        ("tradebot_strategy_win_rate", "Share of a strategy's credited trades that won"),
        ("tradebot_strategy_weight", "A strategy's current ensemble weight"),
    )
    CACHE_S = 5.0

    def __init__(self) -> None:
        self._cached: list[GaugeMetricFamily] = []
        self._at = 0.0

    def describe(self) -> Iterator[GaugeMetricFamily]:
        for name, doc in self.NAMES:
            yield GaugeMetricFamily(name, doc)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.monotonic()
        if not self._cached or now - self._at > self.CACHE_S:
            try:
                self._cached, self._at = self._read(), now
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail on a DB hiccup
                log.warning("metrics: business gauges unavailable: %s", exc)
                self._cached = []
        yield from self._cached

    def _read(self) -> list[GaugeMetricFamily]:
        doc = dict(self.NAMES)
        broker = broker_label()
        summary = portfolio_summary(broker=broker)
        fams = {
            n: GaugeMetricFamily(n, doc[n], labels=["broker"])
            for n in (
                "tradebot_portfolio_value",
                "tradebot_portfolio_cash",
                "tradebot_portfolio_daily_pnl",
                "tradebot_portfolio_drawdown",
                "tradebot_portfolio_sharpe",
                "tradebot_portfolio_roi",
            )
        }
        fams["tradebot_portfolio_value"].add_metric([broker], float(summary.value))
        fams["tradebot_portfolio_cash"].add_metric([broker], float(summary.cash))
        fams["tradebot_portfolio_daily_pnl"].add_metric([broker], float(summary.daily_pnl))
        fams["tradebot_portfolio_drawdown"].add_metric([broker], float(summary.drawdown))
        fams["tradebot_portfolio_roi"].add_metric([broker], float(summary.roi))
        if summary.sharpe is not None:
            fams["tradebot_portfolio_sharpe"].add_metric([broker], float(summary.sharpe))
        win = GaugeMetricFamily(
            "tradebot_strategy_win_rate", doc["tradebot_strategy_win_rate"], labels=["strategy"]
        )
        weight = GaugeMetricFamily(
            "tradebot_strategy_weight", doc["tradebot_strategy_weight"], labels=["strategy"]
        )
        latest = strategy_latest_metrics()
        for s in Strategy.objects.order_by("name"):
            weight.add_metric([s.name], float(s.weight))
            if s.pk in latest:
                win.add_metric([s.name], float(latest[s.pk].win_rate))
        return [*fams.values(), win, weight]


_registered = False


def register_business_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(BusinessCollector())
        _registered = True
