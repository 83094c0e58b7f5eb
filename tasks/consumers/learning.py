"""The learning stage's consumer of ``trades:executed``: closed positions become trade outcomes."""

from __future__ import annotations

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.names import Stream
from apps.bus.queues import Queue
from apps.execution.contracts import TradeEvent
from apps.learning.services import outcome_record
from tasks.learning import cycle_soon


class LearningConsumer(StreamConsumer):
    stream = Stream.TRADES_EXECUTED.value
    group = "learning"
    queue = Queue.LEARNING.value

    def handle(self, delivery: Delivery) -> None:
        event = delivery.message
        if not isinstance(event, TradeEvent):
            raise TypeError(f"expected TradeEvent, got {type(event).__name__}")
        outcome_record(event=event)

    def after_commit(self, deliveries: list[Delivery]) -> None:
        # A close brings new evidence: queue one (debounced) learning cycle for the burst.
        if any(isinstance(d.message, TradeEvent) and d.message.position_closed for d in deliveries):
            cycle_soon()
