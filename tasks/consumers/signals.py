"""The signals stage's consumer of ``news:scored``: re-evaluate the tickers a scored article names."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.names import Stream
from apps.bus.queues import Queue
from apps.core.clock import Clock
from apps.market.clock import market_clock
from apps.sentiment.contracts import ScoredArticle
from apps.strategies.selectors import strategy_weights
from apps.strategies.services import signal_generate

log = logging.getLogger(__name__)


class SignalsOnNewsConsumer(StreamConsumer):
    stream = Stream.NEWS_SCORED.value
    group = "signals"
    queue = Queue.SIGNALS.value
    # Database writes only (the signal row; its message goes out through the outbox): a clean
    # batch is applied without a savepoint per message, redone message by message if one fails.
    savepoint_per_message = False
    clock: Clock | None = None  # the market clock (the replay's when one drives the bot)

    def __init__(self, consumer_name: str | None = None) -> None:
        super().__init__(consumer_name)
        self._last_of: dict[str, str] = {}  # ticker -> the batch's last message naming it
        self._at: datetime | None = None
        self._weights: dict[str, tuple[float, dict[str, object]]] | None = None

    def _now(self) -> datetime:
        # Market time, never the wall clock: under a replay the wall is years ahead of the market,
        # and a decision "now" would see every bar and article stored (lookahead).
        return (self.clock or market_clock()).now()

    def prepare(self, deliveries: list[Delivery]) -> None:
        """One decision per ticker per micro-batch, at one time: a burst of articles about a ticker
        is evaluated once, at its last article (the decision sees every article stored by then),
        instead of once per article with the same inputs."""
        self._at = None
        self._weights = None
        traded = set(settings.TRADING_SYMBOLS)
        self._last_of = {
            s.ticker: d.message_id
            for d in deliveries
            if isinstance(d.message, ScoredArticle)
            for s in d.message.scores
            if s.ticker in traded and self.owns(s.ticker)
        }
        self._at = self._now()
        # The strategies' weights, read once for the batch's decisions (one transaction).
        self._weights = strategy_weights() if self._last_of else None

    def keys(self, delivery: Delivery) -> list[str] | None:
        """Partitioned by ticker: an article is applied by each partition owning one it names."""
        event = delivery.message
        return [s.ticker for s in event.scores] if isinstance(event, ScoredArticle) else None

    def handle(self, delivery: Delivery) -> None:
        event = delivery.message
        if not isinstance(event, ScoredArticle):
            raise TypeError(f"expected ScoredArticle, got {type(event).__name__}")
        traded = set(settings.TRADING_SYMBOLS)
        tickers = sorted(t for t in {s.ticker for s in event.scores} & traded if self.owns(t))
        if not tickers:
            log.debug("signals: article %s names no traded ticker; skipped", event.article_id)
            return
        mine = delivery.message_id
        # A later article of this batch names the ticker too: the decision is made there.
        tickers = [t for t in tickers if self._last_of.get(t, mine) == mine]
        at = self._at or self._now()
        for ticker in tickers:
            # A fresh batch time: nothing to look up (a redelivered message has a receipt).
            outcome = signal_generate(
                ticker=ticker, at=at, publish=False, weights=self._weights, look_up=False
            )
            if outcome is not None and outcome.created:
                delivery.emit(Stream.SIGNALS_GENERATED.value, outcome.event)
