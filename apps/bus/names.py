"""Stream names: one enum, and the dead-letter stream of each."""

from __future__ import annotations

from enum import StrEnum


class Stream(StrEnum):
    NEWS_RAW = "news:raw"
    NEWS_SCORED = "news:scored"
    SIGNALS_GENERATED = "signals:generated"
    TRADES_EXECUTED = "trades:executed"
    # The bus probe: a four-stage chain used for health checks, tests and bench/.
    PING_1 = "bus:ping:1"
    PING_2 = "bus:ping:2"
    PING_3 = "bus:ping:3"
    PING_4 = "bus:ping:4"


def dead_letter(stream: str) -> str:
    return f"{stream}:dead"
