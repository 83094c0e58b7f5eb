"""The static topology of the bus: which consumer group reads which stream, on which Celery queue.

A table, not a registry filled by imports: publishing looks up the groups of a stream here without
importing any consumer, so a news publish never loads the execution stack. Only the worker that
drains a group imports its consumer class (:func:`consumer_for`), by the dotted path named here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from apps.bus.names import Stream
from apps.bus.queues import Queue

if TYPE_CHECKING:
    from apps.bus.consumer import StreamConsumer


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
    ),
    Route(
        "execution",
        Stream.SIGNALS_GENERATED.value,
        Queue.EXECUTION.value,
        "tasks.consumers.execution:ExecutionConsumer",
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


def routes() -> tuple[Route, ...]:
    """Every route (the probe's queues come from settings, read at call time)."""
    return STAGES + probe_routes()


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
    """Import the consumer class of ``group`` (in the worker that drains it) and check it."""
    r = route(group)
    module, _, name = r.consumer.partition(":")
    cls: type[StreamConsumer] = getattr(importlib.import_module(module), name)
    if (cls.group, cls.stream) != (r.group, r.stream):
        raise LookupError(
            f"{r.consumer} reads {cls.stream!r} as {cls.group!r}; the topology says "
            f"{r.stream!r} as {r.group!r}"
        )
    return cls
