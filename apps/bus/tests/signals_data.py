"""Long signals published to ``signals:generated`` in rounds, for the execution-stage scale tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.bus import outbox
from apps.bus.names import Stream


def long_signals_in_rounds(tickers: list[str], rounds: int, t: datetime) -> list[Any]:
    """``rounds`` rounds of one long signal per ticker (one transaction a round), each at a
    minute after the one before, priced at 50 after ``broker.on_bar`` marks the tickers there.
    Returns the stored ``Signal`` rows in publish order."""
    from apps.strategies.contracts import Direction, SignalEvent, StrategyContribution
    from apps.strategies.models import Signal

    signals: list[Signal] = []
    for round_ in range(rounds):
        with transaction.atomic():
            for tk in tickers:
                sig = Signal.objects.create(
                    ticker=tk,
                    direction="long",
                    strength=0.5 + round_ / 10,
                    price=Decimal("50"),
                    decided_at=t + timedelta(minutes=round_),
                    strategy_sources=[{"strategy": "momentum", "score": 0.7, "weight": 1.0}],
                )
                signals.append(sig)
                outbox.publish(
                    Stream.SIGNALS_GENERATED.value,
                    SignalEvent(
                        signal_id=sig.pk,
                        ticker=tk,
                        direction=Direction.LONG,
                        strength=sig.strength,
                        contributions=(StrategyContribution("momentum", 0.7, 1.0),),
                        decided_at=sig.decided_at,
                        price=sig.price,
                    ),
                )
    return signals
