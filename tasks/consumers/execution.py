"""The execution stage's consumer of ``signals:generated``: risk, then (at most) one order.

In the batch transaction the consumer only *decides* and *claims* (a NEW trade row with the
signal's deterministic client order id, committed with the message's receipt). The orders are
sent after the commit: an order never reaches the broker without a committed local row, so a
worker killed between the broker's answer and recording it leaves a NEW row that the next sync
or reconciliation resolves by client id, never a second order.
"""

from __future__ import annotations

import logging

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.names import Stream
from apps.bus.queues import Queue
from apps.execution.brokers.base import BrokerError
from apps.execution.models import Trade
from apps.execution.services import (
    ExecutionContext,
    SignalView,
    context_live,
    signal_decide,
    trade_send,
)
from apps.strategies.contracts import SignalEvent

log = logging.getLogger(__name__)


class ExecutionConsumer(StreamConsumer):
    stream = Stream.SIGNALS_GENERATED.value
    group = "execution"
    queue = Queue.EXECUTION.value
    # handle() only writes to the database (the order is sent after commit): a clean batch is
    # applied without a savepoint per message, and redone message by message if one fails.
    savepoint_per_message = False

    def __init__(self, consumer_name: str | None = None) -> None:
        super().__init__(consumer_name)
        self._ctx: ExecutionContext | None = None
        self._claimed: dict[str, int] = {}  # message id -> claimed trade id

    @property
    def ctx(self) -> ExecutionContext:
        if self._ctx is None:
            self._ctx = context_live()
        return self._ctx

    def keys(self, delivery: Delivery) -> list[str] | None:
        """Partitioned by ticker: each ticker's signals are decided in stream order by one
        partition. Portfolio-wide limits stay exact across partitions: every decision reads and
        claims under the account's row lock (``risk_marks_apply``), held to its batch's commit."""
        event = delivery.message
        return [event.ticker] if isinstance(event, SignalEvent) else None

    def handle(self, delivery: Delivery) -> None:
        event = delivery.message
        self._claimed.pop(delivery.message_id, None)  # a claim of a rolled-back attempt
        if not isinstance(event, SignalEvent):
            raise TypeError(f"expected SignalEvent, got {type(event).__name__}")
        dominant = max(event.contributions, key=lambda c: abs(c.score * c.weight), default=None)
        trade = signal_decide(
            self.ctx,
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
        if trade is not None:
            self._claimed[delivery.message_id] = trade.pk

    def after_commit(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            trade_id = self._claimed.pop(d.message_id, None)
            if trade_id is None:
                continue
            try:
                with self.span_after_commit(d, "order submit", **{"tradebot.trade.id": trade_id}):
                    trade_send(self.ctx, trade=Trade.objects.get(pk=trade_id))
            except BrokerError as exc:  # the claim stays NEW; execution.sync_orders retries it
                log.warning("order for trade %s not sent now (%s); sync will retry", trade_id, exc)
