"""The static topology of the bus: which consumer group reads which stream, on which Celery queue.

A table, not a registry filled by imports: publishing looks up the groups of a stream here without
importing any consumer, so a news publish never loads the execution stack. Only the worker that
drains a group imports its consumer class (:func:`consumer_for`), by the dotted path named here.
"""

from __future__ import annotations

import functools
import importlib
import logging
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.conf import settings

from apps.bus.names import Stream
from apps.bus.queues import Queue

if TYPE_CHECKING:
    from apps.bus.consumer import StreamConsumer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """Consumer group ``group`` reads ``stream``; its drains run on Celery queue ``queue``."""

    group: str
    stream: str
    queue: str
    consumer: str  # "package.module:ClassName", imported only where the group is drained
    # Per-key order matters (one ticker's signals/orders/trades must apply in stream order): the
    # group is drained by one drain at a time, whichever worker runs it. An unordered group may run
    # up to BUS_DRAINS[group] drains at once, on as many workers (docs/scaling.md).
    ordered: bool = True
    # An ordered stage split by key (BUS_PARTITIONS): this route is partition ``partition`` of
    # ``partitions``, a consumer group of its own named ``<stage>.<partition>`` that applies only
    # the keys (tickers) hashing to it -- so each key keeps one ordered reader while the
    # partitions' drains run in parallel on as many workers.
    partition: int = 0
    partitions: int = 1
    stage: str = ""  # the stage's own group name ("signals"); empty: same as ``group``
    partitionable: bool = False  # its consumer names each message's keys (``keys()``)

    @property
    def base(self) -> str:
        return self.stage or self.group


# The stages, in the order of the one-way flow (Article -> ScoredArticle -> Signal -> Trade ->
# Outcome). A stage adds its route here; its consumer class must carry the same group/stream/queue.
STAGES: tuple[Route, ...] = (
    Route(
        "sentiment",
        Stream.NEWS_RAW.value,
        Queue.SENTIMENT.value,
        "tasks.consumers.sentiment:SentimentConsumer",
        ordered=False,  # each article is scored on its own: any worker, any order
    ),
    Route(
        "signals",
        Stream.NEWS_SCORED.value,
        Queue.SIGNALS.value,
        "tasks.consumers.signals:SignalsOnNewsConsumer",
        partitionable=True,  # by ticker
    ),
    Route(
        "execution",
        Stream.SIGNALS_GENERATED.value,
        Queue.EXECUTION.value,
        "tasks.consumers.execution:ExecutionConsumer",
        partitionable=True,  # by ticker (portfolio limits: the account's row lock)
    ),
    Route(
        "learning",
        Stream.TRADES_EXECUTED.value,
        Queue.LEARNING.value,
        "tasks.consumers.learning:LearningConsumer",
    ),
)

PROBE_STREAMS = (Stream.PING_1, Stream.PING_2, Stream.PING_3, Stream.PING_4)


def probe_queue(n: int) -> str:
    """BUS_PROBE_QUEUES: comma-separated queues for probe stages 1..4 (default: all on `default`)."""
    queues = [q for q in getattr(settings, "BUS_PROBE_QUEUES", []) if q]
    return queues[(n - 1) % len(queues)] if queues else Queue.DEFAULT.value


def probe_routes() -> tuple[Route, ...]:
    """The bus probe's four stages (health check, bus tests, ``bench/bus_bench.py``)."""
    return tuple(
        Route(
            f"probe-{n}",
            PROBE_STREAMS[n - 1].value,
            probe_queue(n),
            f"apps.bus.probe:PingStage{n}",
            ordered=False,
        )
        for n in range(1, 5)
    )


def partitions_of(stage: str) -> int:
    """BUS_PARTITIONS[stage]: how many key partitions an ordered stage runs (default 1)."""
    return max(1, int(getattr(settings, "BUS_PARTITIONS", {}).get(stage, 1)))


def partition_of(key: str, partitions: int) -> int:
    """The partition that owns ``key`` (stable across processes and machines: CRC-32)."""
    return zlib.crc32(key.encode("utf-8")) % partitions if partitions > 1 else 0


def stage_routes() -> tuple[Route, ...]:
    """The stages' routes, an ordered stage with BUS_PARTITIONS[stage] = N > 1 as N routes
    (groups ``<stage>.0`` .. ``<stage>.<N-1>``)."""
    out: list[Route] = []
    for r in STAGES:
        n = partitions_of(r.group)
        if n > 1 and not r.partitionable:
            log.warning("bus: BUS_PARTITIONS[%s] ignored: that stage is not split by key", r.group)
            n = 1
        if n == 1:
            out.append(r)
            continue
        out += [
            replace(r, group=f"{r.group}.{k}", partition=k, partitions=n, stage=r.group)
            for k in range(n)
        ]
    return tuple(out)


def routes() -> tuple[Route, ...]:
    """Every route (partitions and the probe's queues come from settings, read at call time)."""
    return stage_routes() + probe_routes()


def route(group: str) -> Route:
    for r in routes():
        if r.group == group:
            return r
    raise LookupError(f"no consumer group {group!r}")


def routes_of(stream: str) -> list[Route]:
    return [r for r in routes() if r.stream == stream]


def max_drains(group: str) -> int:
    """How many drains of ``group`` may run at once: 1 for an ordered group, else
    ``BUS_DRAINS[group]`` (default 1; the sentiment stage defaults to 4)."""
    r = route(group)
    wanted = int(getattr(settings, "BUS_DRAINS", {}).get(group, 1))
    return 1 if r.ordered else max(1, wanted)


def consumer_for(group: str) -> type[StreamConsumer]:
    """Import the consumer class of ``group`` (in the worker that drains it) and check it.

    A partition's group gets a subclass that carries its group name and partition."""
    return _consumer_for(route(group))


@functools.cache
def _consumer_for(r: Route) -> type[StreamConsumer]:
    module, _, name = r.consumer.partition(":")
    cls: type[StreamConsumer] = getattr(importlib.import_module(module), name)
    if (cls.group, cls.stream) != (r.base, r.stream):
        raise LookupError(
            f"{r.consumer} reads {cls.stream!r} as {cls.group!r}; the topology says "
            f"{r.stream!r} as {r.base!r}"
        )
    if r.partitions == 1:
        return cls
    attrs = {"group": r.group, "partition": r.partition, "partitions": r.partitions}
    return type(f"{cls.__name__}P{r.partition}of{r.partitions}", (cls,), attrs)
