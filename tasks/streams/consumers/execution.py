"""The execution stage's consumer of ``signals:generated``: risk, then (at most) one order."""

from __future__ import annotations

from apps.execution.services import ExecutionContext, SignalView, context_live, signal_execute
from apps.strategies.contracts import SignalEvent
from tasks.queues import Queue
from tasks.streams.consumer import Delivery, StreamConsumer
from tasks.streams.names import Stream
from tasks.streams.registry import register


@register
class ExecutionConsumer(StreamConsumer):
    stream = Stream.SIGNALS_GENERATED.value
    group = "execution"
    queue = Queue.EXECUTION.value

    _ctx: ExecutionContext | None = None

    def handle(self, delivery: Delivery) -> None:
        event = delivery.message
        if not isinstance(event, SignalEvent):
            raise TypeError(f"expected SignalEvent, got {type(event).__name__}")
        if self._ctx is None:
            self._ctx = context_live()
        dominant = max(event.contributions, key=lambda c: abs(c.score * c.weight), default=None)
        signal_execute(
            self._ctx,
            signal=SignalView(
                signal_id=event.signal_id,
                ticker=event.ticker,
                direction=event.direction.value,
                strength=event.strength,
                decided_at=event.decided_at,
                price=event.price,
                strategy=dominant.strategy if dominant else "",
            ),
        )
