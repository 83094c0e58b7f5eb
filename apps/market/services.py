"""Writes of the market stage: idempotent bar upserts, the latest-price cache, data-set loading."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.conf import settings

from apps.core.redis_client import redis_client
from apps.market.calendar import daily_bar_time
from apps.market.clock import REPLAY_NOW_KEY
from apps.market.contracts import Bar
from apps.market.metrics import BARS_STORED
from apps.market.models import MarketBar

log = logging.getLogger(__name__)

PRICE_KEY = "market:price:{symbol}"
DATASETS_DIR = settings.BASE_DIR / "data" / "bars"
# Data sets shipped in data/bars: name -> [(folder, timeframe)].
DATASETS: dict[str, list[tuple[str, str]]] = {
    "demo": [("daily", "1Day")],
    "daily": [("daily", "1Day")],
}

# Sets the cached price only if the bar is at least as new as the cached one (bars arrive out of
# order from backfills and the live stream at once). KEYS[1]; ARGV: price, time (epoch ns).
_SET_IF_NEWER = """
local cur = redis.call('HGET', KEYS[1], 'ns')
if cur and tonumber(cur) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'price', ARGV[1], 'ns', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 6)))


def _ns(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


def _model(bar: Bar) -> MarketBar:
    return MarketBar(
        symbol=bar.symbol,
        timeframe=bar.timeframe,
        time=bar.time,
        open=_dec(bar.open),
        high=_dec(bar.high),
        low=_dec(bar.low),
        close=_dec(bar.close),
        volume=_dec(bar.volume) or Decimal(0),
        vwap=_dec(bar.vwap),
        trade_count=bar.trade_count,
        source=bar.source[:40],
    )


def replay_clock_set(*, at: datetime, ttl_s: int = 3600) -> None:
    """Publish the replay's simulated "now" so every stage decides at market time, not wall time."""
    redis_client().set(REPLAY_NOW_KEY, at.isoformat(), ex=ttl_s)


def price_cache_set(*, symbol: str, price: float | Decimal, at: datetime) -> bool:
    """Cache ``price`` as the latest for ``symbol`` unless a newer one is cached. True if set."""
    client = redis_client()
    script = client.register_script(_SET_IF_NEWER)
    key = PRICE_KEY.format(symbol=symbol)
    return bool(script(keys=[key], args=[str(price), _ns(at), settings.MARKET_PRICE_TTL_S]))


def bars_upsert(*, bars: Iterable[Bar], batch_size: int = 2000, cache_prices: bool = True) -> int:
    """Insert or update bars on (symbol, timeframe, time); returns rows written. Idempotent."""
    total = 0
    it = iter(bars)
    while batch := list(islice(it, batch_size)):
        rows = [_model(b) for b in batch]
        MarketBar.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["symbol", "timeframe", "time"],
            update_fields=[
                "open",
                "high",
                "low",
                "close",
                "volume",
                "vwap",
                "trade_count",
                "source",
            ],
        )
        total += len(rows)
        for (source, timeframe), n in _count_by(batch).items():
            BARS_STORED.labels(source.split(":")[0] or "unknown", timeframe).inc(n)
        if cache_prices:
            for symbol, bar in _newest(batch).items():
                price_cache_set(symbol=symbol, price=bar.close, at=bar.time)
    return total


def _count_by(batch: list[Bar]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for b in batch:
        out[(b.source, b.timeframe)] = out.get((b.source, b.timeframe), 0) + 1
    return out


def _newest(batch: list[Bar]) -> dict[str, Bar]:
    out: dict[str, Bar] = {}
    for b in batch:
        if b.symbol not in out or b.time > out[b.symbol].time:
            out[b.symbol] = b
    return out


def bars_read_csv(path: Path, *, symbol: str, timeframe: str, source: str) -> Iterator[Bar]:
    """Bars from a ``timestamp,open,high,low,close,volume`` CSV (daily: session dates)."""
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            stamp = row["timestamp"].strip()
            if len(stamp) == 10:
                ts = daily_bar_time(date.fromisoformat(stamp))
            else:
                ts = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
            yield Bar(
                symbol=symbol,
                timeframe=timeframe,
                time=ts,
                open=float(row["open"]),
                high=float(row["high"]),
                low=float(row["low"]),
                close=float(row["close"]),
                volume=float(row["volume"] or 0),
                source=source,
            )


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    symbol: str
    timeframe: str
    rows: int


def dataset_load(*, name: str = "demo", root: Path | None = None) -> list[LoadedFile]:
    """Load a shipped data set (``data/bars``) into market_data. Safe to run again."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {sorted(DATASETS)}")
    base = root or DATASETS_DIR
    loaded: list[LoadedFile] = []
    for folder, timeframe in DATASETS[name]:
        for path in sorted((base / folder).glob("*.csv")):
            symbol = path.stem.split("_")[0].upper()
            bars = bars_read_csv(
                path, symbol=symbol, timeframe=timeframe, source=f"dataset:{name}/{path.name}"
            )
            n = bars_upsert(bars=bars)
            loaded.append(LoadedFile(path, symbol, timeframe, n))
            log.info("loaded %d %s bars of %s from %s", n, timeframe, symbol, path)
    return loaded
