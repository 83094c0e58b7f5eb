"""Reads of the market stage: bar windows as strategy frames, the latest price, gaps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from django.db import connection

from apps.core.redis_client import redis_client
from apps.market import calendar
from apps.market.clock import market_clock
from apps.market.contracts import Bar
from apps.market.frames import MarketFrame
from apps.market.metrics import MISSING_BARS, PRICE_CACHE
from apps.market.models import MarketBar
from apps.market.services import PRICE_KEY, price_cache_set

log = logging.getLogger(__name__)

_COLUMNS = ("time", "open", "high", "low", "close", "volume")


# One statement, converted in the database: times as exact integer microseconds since the epoch,
# prices and volume as float8 (the nearest double, as ``float(Decimal)`` gives). Reading Decimals and
# datetimes through the ORM cost ~3x more per bar; every decision and backtest reads bars here.
_BARS_SQL = (
    "SELECT (EXTRACT(EPOCH FROM time) * 1000000)::bigint, open::float8, high::float8, "
    "low::float8, close::float8, volume::float8 FROM {table} WHERE {where} ORDER BY time {order}"
)


def bars_frame(
    *,
    symbol: str,
    timeframe: str = calendar.DAILY,
    end: datetime | None = None,
    lookback: int | None = None,
    start: datetime | None = None,
) -> MarketFrame:
    """Bars of ``symbol`` with ``start <= time <= end``, oldest first, as a ``MarketFrame``.

    ``lookback`` keeps only the last N bars up to ``end`` (the live window); without it every bar
    in the range is returned (the backtester). Times are int64 ns since the epoch (UTC, bar open);
    prices and volume are float64. Sentiment is empty: the caller adds it (``dataclasses.replace``).
    """
    where = ["symbol = %s", "timeframe = %s"]
    params: list[str | int | datetime] = [symbol, timeframe]
    if end is not None:
        where.append("time <= %s")
        params.append(end)
    if start is not None:
        where.append("time >= %s")
        params.append(start)
    sql = _BARS_SQL.format(
        table=MarketBar._meta.db_table,
        where=" AND ".join(where),
        order="DESC" if lookback is not None else "ASC",
    )
    if lookback is not None:
        sql += " LIMIT %s"
        params.append(lookback)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if lookback is not None:
        rows.reverse()
    if not rows:
        e = np.empty(0, dtype=np.float64)
        return MarketFrame(
            symbol, np.empty(0, dtype=np.int64), e, e.copy(), e.copy(), e.copy(), e.copy()
        )
    cols = list(zip(*rows, strict=True))
    f = [np.asarray(c, dtype=np.float64) for c in cols[1:]]
    times = np.asarray(cols[0], dtype=np.int64) * 1000
    return MarketFrame(symbol, times, f[0], f[1], f[2], f[3], f[4])


@dataclass(frozen=True)
class PricePoint:
    symbol: str
    price: Decimal
    at: datetime


def latest_price_point(*, symbol: str) -> PricePoint | None:
    """The newest known price: the Redis cache (fed by every bar written), else the last close."""
    try:
        cached = redis_client().hmget(PRICE_KEY.format(symbol=symbol), ["price", "ns"])
    except Exception:
        log.warning("price cache unavailable; reading %s from the database", symbol, exc_info=True)
        cached = [None, None]
    if cached[0] is not None and cached[1] is not None:
        PRICE_CACHE.labels("hit").inc()
        ns = int(cached[1])
        at = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
            microsecond=(ns // 1000) % 1_000_000
        )
        raw = cached[0]
        return PricePoint(symbol, Decimal(raw.decode() if isinstance(raw, bytes) else raw), at)
    row = (
        MarketBar.objects.filter(symbol=symbol)
        .order_by("-time")
        .values_list("close", "time", "timeframe")
        .first()
    )
    if row is None:
        PRICE_CACHE.labels("miss").inc()
        return None
    PRICE_CACHE.labels("db_fallback").inc()
    try:
        price_cache_set(symbol=symbol, price=row[0], at=row[1])
    except Exception:  # noqa: BLE001
        log.warning("could not refill the price cache for %s", symbol)
    return PricePoint(symbol, row[0], row[1])


def latest_price(*, symbol: str) -> Decimal | None:
    point = latest_price_point(symbol=symbol)
    return None if point is None else point.price


def market_now() -> datetime:
    """Market time: the replay's simulated clock while a replay drives the bot, else wall time."""
    return market_clock().now()


def bars_symbols(*, timeframe: str | None = None) -> list[str]:
    qs = MarketBar.objects.all()
    if timeframe:
        qs = qs.filter(timeframe=timeframe)
    return sorted(qs.values_list("symbol", flat=True).distinct().order_by())


def bars_missing(
    *,
    symbol: str,
    timeframe: str = calendar.DAILY,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[datetime]:
    """Session days (daily) or trading minutes (intraday) in the range with no stored bar.

    The range defaults to the first..last stored bar, so a data set is checked against itself.
    Intraday checks only look at sessions that have at least one bar (a missing day shows in the
    daily check; a feed like IEX skips quiet minutes, so read minute gaps with that in mind).
    """
    qs = MarketBar.objects.filter(symbol=symbol, timeframe=timeframe)
    if start is not None:
        qs = qs.filter(time__gte=start)
    if end is not None:
        qs = qs.filter(time__lte=end)
    stored = list(qs.order_by("time").values_list("time", flat=True))
    if not stored and (start is None or end is None):
        return []
    lo, hi = start or stored[0], end or stored[-1]
    missing = calendar.missing_times(stored, lo, hi, timeframe)
    if timeframe != calendar.DAILY and stored:
        days = {t.astimezone(calendar.NEW_YORK).date() for t in stored}
        missing = [m for m in missing if m.astimezone(calendar.NEW_YORK).date() in days]
    MISSING_BARS.labels(symbol, timeframe).set(len(missing))
    return missing


def bars_iter(
    *,
    symbol: str,
    timeframe: str = calendar.DAILY,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[Bar]:
    """Stored bars in time order as ``Bar`` values (streamed from the database in chunks)."""
    qs = MarketBar.objects.filter(symbol=symbol, timeframe=timeframe)
    if start is not None:
        qs = qs.filter(time__gte=start)
    if end is not None:
        qs = qs.filter(time__lte=end)
    for row in qs.order_by("time").iterator(chunk_size=5000):
        yield Bar(
            symbol=row.symbol,
            timeframe=row.timeframe,
            time=row.time,
            open=float(row.open),
            high=float(row.high),
            low=float(row.low),
            close=float(row.close),
            volume=float(row.volume),
            vwap=float(row.vwap) if row.vwap is not None else None,
            trade_count=row.trade_count,
            source=row.source,
        )
