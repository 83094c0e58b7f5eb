"""Market-data tasks: catch up recent bars from Alpaca, check stored bars for gaps."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.bus.queues import Queue
from apps.market.clock import market_clock
from apps.market.selectors import bars_missing, bars_symbols
from apps.market.sources.alpaca import backfill

log = logging.getLogger(__name__)


@shared_task(name="market.backfill_recent", queue=Queue.DEFAULT.value, ignore_result=True)
def backfill_recent(
    symbols: list[str] | None = None, timeframe: str = "1Day", days: int = 7
) -> dict[str, int]:
    """Upsert the last ``days`` of bars (idempotent); skipped when no Alpaca keys are configured."""
    if not (settings.ALPACA_API_KEY and settings.ALPACA_SECRET_KEY):
        log.info("market.backfill_recent skipped: ALPACA_API_KEY/ALPACA_SECRET_KEY not set")
        return {}

    end = market_clock().now()
    return backfill(
        symbols or settings.TRADING_SYMBOLS,
        start=end - timedelta(days=days),
        end=end,
        timeframe=timeframe,
    )


@shared_task(name="market.check_gaps", queue=Queue.DEFAULT.value, ignore_result=True)
def check_gaps(timeframe: str = "1Day", days: int = 30) -> dict[str, int]:
    """Count missing bars per symbol over the last ``days`` (sets tradebot_market_missing_bars)."""
    end = market_clock().now()
    out = {}
    for symbol in bars_symbols(timeframe=timeframe):
        missing = bars_missing(
            symbol=symbol, timeframe=timeframe, start=end - timedelta(days=days), end=end
        )
        out[symbol] = len(missing)
        if missing:
            log.warning(
                "%s %s: %d bars missing in the last %d days", symbol, timeframe, len(missing), days
            )
    return out
