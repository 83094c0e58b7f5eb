"""Prometheus metrics of the bus and the queues, on the process's shared registry.

Every process exposes the same registry (prometheus_client's default ``REGISTRY``): the web process
at ``/metrics``, each worker on its own ``METRICS_PORT``. Stage metrics live next to their stage
(``apps/<app>/metrics.py``) on the same registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.bus.names import Stream, dead_letter
from apps.bus.queues import Queue
from apps.core.redis_client import redis_client, text

log = logging.getLogger(__name__)

__all__ = ["REGISTRY"]

BUS_PUBLISHED = Counter(
    "tradebot_bus_published_total", "Messages published to a stream", ["stream"]
)
BUS_PROCESSED = Counter(
    "tradebot_bus_processed_total",
    "Messages handled by a consumer group, by outcome (ok, duplicate, failed, dead)",
    ["group", "outcome"],
)
BUS_HANDLE_SECONDS = Histogram(
    "tradebot_bus_batch_seconds",
    "Time to handle and commit one batch of stream messages",
    ["group"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
BUS_RECLAIMED = Counter(
    "tradebot_bus_reclaimed_total", "Messages reclaimed from dead or stalled consumers", ["group"]
)
BUS_PUBLISH_ERRORS = Counter(
    "tradebot_bus_publish_errors_total",
    "Publishes that failed and were left in the outbox for the relay",
    ["stream"],
)


class BusCollector(Collector):
    """Stream length, consumer-group pending and lag, dead letters, Celery queue depth.

    Read from Redis at scrape time, so every process reports the same truth.
    """

    NAMES = (
        ("tradebot_stream_length", "Entries in a stream"),
        ("tradebot_stream_pending", "Messages delivered to a group and not yet acknowledged"),
        ("tradebot_stream_lag", "Entries not yet delivered to a group (Redis >= 7)"),
        ("tradebot_stream_dead_letters", "Entries in a dead-letter stream"),
        ("tradebot_queue_depth", "Celery messages waiting in a queue"),
    )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registration calls describe(), not collect(): collect() reads Redis, which registration
        # must not wait for.
        for name, doc in self.NAMES:
            yield GaugeMetricFamily(name, doc)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        length = GaugeMetricFamily(
            "tradebot_stream_length", "Entries in a stream", labels=["stream"]
        )
        pending = GaugeMetricFamily(
            "tradebot_stream_pending",
            "Messages delivered to a group and not yet acknowledged",
            labels=["stream", "group"],
        )
        lag = GaugeMetricFamily(
            "tradebot_stream_lag",
            "Entries not yet delivered to a group (Redis >= 7)",
            labels=["stream", "group"],
        )
        dead = GaugeMetricFamily(
            "tradebot_stream_dead_letters", "Entries in a dead-letter stream", labels=["stream"]
        )
        depth = GaugeMetricFamily(
            "tradebot_queue_depth", "Celery messages waiting in a queue", labels=["queue"]
        )
        try:
            r = redis_client()
            for stream in Stream:
                name = stream.value
                length.add_metric([name], float(r.xlen(name)))
                dead.add_metric([name], float(r.xlen(dead_letter(name))))
                if not r.exists(name):
                    continue
                for info in r.xinfo_groups(name):
                    group = text(info.get("name"))
                    pending.add_metric([name, group], float(info.get("pending") or 0))
                    if info.get("lag") is not None:
                        lag.add_metric([name, group], float(info["lag"]))
            for q in Queue:
                depth.add_metric([q.value], float(r.llen(q.value)))
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because Redis is down
            log.warning("metrics: could not read stream/queue gauges from redis: %s", exc)
        yield from (length, pending, lag, dead, depth)


_registered = False


def register_collectors() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(BusCollector())
        _registered = True
