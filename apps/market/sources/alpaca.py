"""Alpaca market data through alpaca-py: historical bars (REST) and live bars (WebSocket).

``backfill`` pages through ``StockHistoricalDataClient.get_stock_bars`` one symbol and one time
chunk at a time (so the progress bar moves and a failure loses one chunk), and upserts each chunk
(idempotent on (symbol, timeframe, time)). ``BarStream`` runs ``StockDataStream`` and writes every
bar it receives. ``ALPACA_DATA_URL`` / ``ALPACA_DATA_STREAM_URL`` point both at the stand-in.
Requests share a Redis token bucket per account, like the trading adapter.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.live import StockDataStream
from alpaca.data.models import Bar as AlpacaBar
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from django.conf import settings

from apps.core.alpaca import stop_stream, translate_error
from apps.core.errors import TransientBrokerError
from apps.core.ratelimit import TokenBucket, call_with_retry, limited_session
from apps.core.redis_client import redis_client
from apps.market.contracts import Bar
from apps.market.metrics import BARS_STREAMED
from apps.market.services import bars_upsert

log = logging.getLogger(__name__)

SOURCE = "alpaca"
# How much history one request asks for: ~10k bars at most per page anyway, but smaller chunks
# keep the progress bar honest and a failed chunk cheap.
CHUNK = {"Min": timedelta(days=5), "Hour": timedelta(days=120), "Day": timedelta(days=3650)}


def parse_timeframe(text: str) -> TimeFrame:
    """``1Min``, ``5Min``, ``1Hour``, ``1Day`` -> alpaca-py ``TimeFrame``."""
    for unit in (TimeFrameUnit.Minute, TimeFrameUnit.Hour, TimeFrameUnit.Day, TimeFrameUnit.Week):
        if text.endswith(unit.value) and text[: -len(unit.value)].isdigit():
            return TimeFrame(int(text[: -len(unit.value)]), unit)
    raise ValueError(f"unknown timeframe {text!r} (use e.g. 1Min, 5Min, 1Hour, 1Day)")


def _credentials() -> tuple[str, str]:
    key, secret = settings.ALPACA_API_KEY, settings.ALPACA_SECRET_KEY
    if not (key and secret):
        raise RuntimeError("ALPACA_API_KEY / ALPACA_SECRET_KEY are not set")
    return key, secret


def historical_client() -> StockHistoricalDataClient:
    key, secret = _credentials()
    client = StockHistoricalDataClient(key, secret, url_override=settings.ALPACA_DATA_URL or None)
    account = hashlib.sha1(key.encode()).hexdigest()[:10]
    bucket = TokenBucket.per_minute(
        redis_client(), f"ratelimit:alpaca-data:{account}", settings.ALPACA_RATE_LIMIT_PER_MIN
    )
    client._session = limited_session(
        bucket,
        timeout_s=settings.ALPACA_REQUEST_TIMEOUT_S,
        max_wait_s=settings.ALPACA_RATE_LIMIT_MAX_WAIT_S,
        broker="alpaca-data",
    )
    client._retry_codes = []  # 429s are retried by call_with_retry, honouring Retry-After
    return client


def bar_from_alpaca(bar: AlpacaBar, timeframe: str) -> Bar:
    return Bar(
        symbol=bar.symbol,
        timeframe=timeframe,
        time=bar.timestamp.astimezone(UTC),
        open=float(bar.open),
        high=float(bar.high),
        low=float(bar.low),
        close=float(bar.close),
        volume=float(bar.volume),
        vwap=float(bar.vwap) if bar.vwap is not None else None,
        trade_count=int(bar.trade_count) if bar.trade_count is not None else None,
        source=SOURCE,
    )


def chunks(start: datetime, end: datetime, timeframe: str) -> list[tuple[datetime, datetime]]:
    """Split [start, end] into request windows sized for the timeframe."""
    unit = next((u for u in CHUNK if timeframe.endswith(u)), "Day")
    step, out, lo = CHUNK[unit], [], start
    while lo < end:
        hi = min(lo + step, end)
        out.append((lo, hi))
        lo = hi
    return out


def fetch_bars(
    client: StockHistoricalDataClient,
    *,
    symbol: str,
    start: datetime,
    end: datetime,
    timeframe: str,
) -> list[Bar]:
    """One symbol, one window: every page (alpaca-py follows ``next_page_token``)."""
    request = StockBarsRequest(
        symbol_or_symbols=symbol,
        timeframe=parse_timeframe(timeframe),
        start=start,
        end=end,
        feed=DataFeed(settings.ALPACA_DATA_FEED),
    )

    def attempt() -> Any:
        try:
            return client.get_stock_bars(request)
        except Exception as exc:
            raise translate_error(exc) from exc

    barset = call_with_retry(
        attempt,
        budget_s=settings.ALPACA_RETRY_BUDGET_S,
        broker="alpaca-data",
        retry_on=(TransientBrokerError,),
    )
    return [bar_from_alpaca(b, timeframe) for b in barset.data.get(symbol, [])]


def backfill(
    symbols: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    timeframe: str,
    client: StockHistoricalDataClient | None = None,
    progress: Callable[[Iterator[Any]], Iterator[Any]] | None = None,
) -> dict[str, int]:
    """Fetch and upsert bars for each symbol; returns rows written per symbol. Idempotent."""
    client = client or historical_client()
    jobs = [(s, lo, hi) for s in symbols for lo, hi in chunks(start, end, timeframe)]
    written: dict[str, int] = dict.fromkeys(symbols, 0)
    iterator: Iterator[Any] = iter(jobs)
    if progress is not None:
        iterator = progress(iterator)
    for symbol, lo, hi in iterator:
        bars = fetch_bars(client, symbol=symbol, start=lo, end=hi, timeframe=timeframe)
        written[symbol] += bars_upsert(bars=bars)
    log.info("backfill %s %s..%s: %s", timeframe, start, end, written)
    return written


class BarStream:
    """Live bars from ``StockDataStream``: each bar is upserted and cached as the latest price.

    ``on_bar`` (optional) is called after the write, off the event loop (it may use the ORM).
    """

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        daily: bool = False,
        on_bar: Callable[[Bar], None] | None = None,
    ) -> None:
        key, secret = _credentials()
        self.symbols, self.on_bar = list(symbols), on_bar
        self.stream = StockDataStream(
            key,
            secret,
            feed=DataFeed(settings.ALPACA_DATA_FEED),
            url_override=settings.ALPACA_DATA_STREAM_URL or None,
        )
        self.stream.subscribe_bars(self._minute_bar, *self.symbols)
        if daily:
            self.stream.subscribe_daily_bars(self._daily_bar, *self.symbols)

    def _write(self, bar: Bar) -> None:
        bars_upsert(bars=[bar])
        BARS_STREAMED.labels(bar.timeframe).inc()
        if self.on_bar is not None:
            self.on_bar(bar)

    async def _minute_bar(self, bar: AlpacaBar | dict[Any, Any]) -> None:
        await self._handle(bar, "1Min")

    async def _daily_bar(self, bar: AlpacaBar | dict[Any, Any]) -> None:
        await self._handle(bar, "1Day")

    async def _handle(self, bar: AlpacaBar | dict[Any, Any], timeframe: str) -> None:
        assert isinstance(bar, AlpacaBar)  # raw_data=False: alpaca-py parses every bar
        try:
            # The ORM is synchronous: write from a worker thread, in arrival order.
            await asyncio.to_thread(self._write, bar_from_alpaca(bar, timeframe))
        except Exception:
            log.exception("could not store streamed bar %s %s", bar.symbol, bar.timestamp)

    def run(self) -> None:
        """Block, reconnecting on errors (alpaca-py), until :meth:`stop` is called."""
        log.info("streaming %s bars for %s", settings.ALPACA_DATA_FEED, ", ".join(self.symbols))
        self.stream.run()

    def stop(self) -> None:
        stop_stream(self.stream)
