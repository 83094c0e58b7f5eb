"""Payloads of the signals stage (stream ``signals:generated``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from apps.core.contracts import Contract


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


@dataclass(frozen=True, slots=True)
class StrategyContribution:
    strategy: str
    score: float  # the strategy's own score in [-1, 1]
    weight: float  # its ensemble weight when the signal was made


@dataclass(frozen=True, slots=True)
class SignalEvent(Contract):
    """An ensemble decision for one ticker at one time."""

    TYPE = "signals.generated"
    VERSION = 1

    signal_id: int
    ticker: str
    direction: Direction
    strength: float  # in [0, 1]
    contributions: tuple[StrategyContribution, ...]
    decided_at: datetime
    sentiment_score: float | None = None
    price: Decimal | None = None
