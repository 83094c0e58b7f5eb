"""Maps a configured broker kind to a lazily imported adapter class."""

from __future__ import annotations

import importlib
from typing import Any

from apps.execution.brokers.base import Broker

BROKERS: dict[str, str] = {
    "simulated": "apps.execution.brokers.simulated.SimulatedBroker",
    "alpaca": "apps.execution.brokers.alpaca.AlpacaBroker",
}


def broker_class(kind: str) -> type[Broker]:
    try:
        path = BROKERS[kind]
    except KeyError:
        raise LookupError(f"unknown broker {kind!r}; known: {sorted(BROKERS)}") from None
    module, _, name = path.rpartition(".")
    cls: type[Broker] = getattr(importlib.import_module(module), name)
    return cls


def make_broker(kind: str, **kwargs: Any) -> Broker:
    return broker_class(kind)(**kwargs)
