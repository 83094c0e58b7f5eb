"""The signals stage's consumer of ``news:scored``: re-evaluate the tickers a scored article names."""

from __future__ import annotations

import logging

from django.conf import settings

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.names import Stream
from apps.bus.queues import Queue
from apps.core.clock import Clock
from apps.market.clock import market_clock
from apps.sentiment.contracts import ScoredArticle
from apps.strategies.services import signal_generate

log = logging.getLogger(__name__)


class SignalsOnNewsConsumer(StreamConsumer):
    stream = Stream.NEWS_SCORED.value
    group = "signals"
    queue = Queue.SIGNALS.value
    clock: Clock | None = None  # the market clock (the replay's when one drives the bot)

    def handle(self, delivery: Delivery) -> None:
        event = delivery.message
        if not isinstance(event, ScoredArticle):
            raise TypeError(f"expected ScoredArticle, got {type(event).__name__}")
        traded = set(settings.TRADING_SYMBOLS)
        tickers = sorted({s.ticker for s in event.scores} & traded)
        if not tickers:
            log.debug("signals: article %s names no traded ticker; skipped", event.article_id)
            return
        # Market time, never the wall clock: under a replay the wall is years ahead of the market,
        # and a decision "now" would see every bar and article stored (lookahead).
        at = (self.clock or market_clock()).now()
        for ticker in tickers:
            outcome = signal_generate(ticker=ticker, at=at, publish=False)
            if outcome is not None and outcome.created:
                delivery.emit(Stream.SIGNALS_GENERATED.value, outcome.event)
