"""Every Celery queue in one place. Each task names its queue with ``queue=Queue.X``."""

from __future__ import annotations

from enum import StrEnum

from kombu import Queue as KombuQueue


class Queue(StrEnum):
    NEWS = "news"
    SENTIMENT = "sentiment"  # the GPU queue
    SIGNALS = "signals"
    EXECUTION = "execution"
    LEARNING = "learning"
    BACKTEST = "backtest"
    DEFAULT = "default"


def task_queues() -> list[KombuQueue]:
    return [KombuQueue(q.value, routing_key=q.value) for q in Queue]
