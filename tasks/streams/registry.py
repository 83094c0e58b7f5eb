"""Which consumer groups read which stream, and on which Celery queue they run."""

from __future__ import annotations

import importlib
from typing import TypeVar

from tasks.streams.consumer import StreamConsumer

# Modules that define consumers; imported on first lookup. A stage adds its module here.
CONSUMER_MODULES: list[str] = [
    "tasks.streams.probe",
    "tasks.streams.consumers.learning",
    "tasks.streams.consumers.sentiment",
    "tasks.streams.consumers.signals",
    "tasks.streams.consumers.execution",
]

_BY_GROUP: dict[str, type[StreamConsumer]] = {}
_loaded = False

T = TypeVar("T", bound=type[StreamConsumer])


def register(cls: T) -> T:
    existing = _BY_GROUP.get(cls.group)
    if existing is not None and existing is not cls:
        raise ValueError(f"consumer group {cls.group!r} registered twice")
    _BY_GROUP[cls.group] = cls
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for mod in CONSUMER_MODULES:
            importlib.import_module(mod)
        _loaded = True


def consumer_for(group: str) -> type[StreamConsumer]:
    _load()
    try:
        return _BY_GROUP[group]
    except KeyError:
        raise LookupError(f"no consumer group {group!r}") from None


def consumers_of(stream: str) -> list[type[StreamConsumer]]:
    _load()
    return [c for c in _BY_GROUP.values() if c.stream == stream]


def all_consumers() -> list[type[StreamConsumer]]:
    _load()
    return list(_BY_GROUP.values())
