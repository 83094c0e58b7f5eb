"""Bars in the database: idempotent loads and upserts, frames for strategies, prices, gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command

from apps.market.contracts import Bar
from apps.market.models import MarketBar
from apps.market.selectors import (
    bars_frame,
    bars_iter,
    bars_missing,
    latest_price,
    latest_price_point,
)
from apps.market.services import bars_upsert, dataset_load, price_cache_set

pytestmark = pytest.mark.django_db


DEMO_SYMBOLS = [
    "AAPL",
    "MSFT",
    "AMZN",
    "GOOGL",
    "GOOG",
    "NVDA",
    "JPM",
    "FB",
    "BAC",
    "XOM",
    "INTC",
    "WMT",
    "JNJ",
]


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def bar(day: int, close: float, symbol: str = "TEST", **kw) -> Bar:
    # Daily bars stamped at midnight New York (05:00 UTC in November), as Alpaca does.
    return Bar(
        symbol, "1Day", utc(2017, 11, day, 5), close, close + 1, close - 1, close, 1000, **kw
    )


def test_demo_dataset_loads_once(redis_conn):
    first = dataset_load(name="demo")
    count = MarketBar.objects.count()
    assert {f.symbol for f in first if f.timeframe == "1Day"} == set(DEMO_SYMBOLS)
    assert count == sum(f.rows for f in first) == 12 * 1259 + 975  # GOOG listed 2014-03-27
    dataset_load(name="demo")
    assert MarketBar.objects.count() == count
    aapl = MarketBar.objects.get(symbol="AAPL", timeframe="1Day", time=utc(2017, 11, 24, 5))
    assert aapl.close == Decimal("174.97")
    # >= 3 months of every daily ticker, spanning its sessions with no gap
    for sym in ("AAPL", "MSFT", "AMZN", "GOOGL", "NVDA", "JPM"):
        assert bars_missing(symbol=sym, timeframe="1Day") == []


def test_upsert_updates_on_conflict(redis_conn):
    assert bars_upsert(bars=[bar(20, 10.0), bar(21, 11.0)]) == 2
    assert bars_upsert(bars=[bar(21, 12.5, vwap=12.4, trade_count=7)]) == 1
    assert MarketBar.objects.filter(symbol="TEST").count() == 2
    row = MarketBar.objects.get(symbol="TEST", time=utc(2017, 11, 21, 5))
    assert (row.close, row.vwap, row.trade_count) == (Decimal("12.5"), Decimal("12.4"), 7)


def test_bars_frame_arrays_and_windows(redis_conn):
    bars_upsert(bars=[bar(d, float(d)) for d in (20, 21, 22, 24, 27)])
    frame = bars_frame(symbol="TEST", timeframe="1Day")
    assert len(frame) == 5
    assert frame.time.dtype == np.int64 and frame.close.dtype == np.float64
    assert frame.time[0] == int(utc(2017, 11, 20, 5).timestamp()) * 1_000_000_000
    assert list(frame.close) == [20.0, 21.0, 22.0, 24.0, 27.0]
    window = bars_frame(symbol="TEST", timeframe="1Day", end=utc(2017, 11, 24, 5), lookback=2)
    assert list(window.close) == [22.0, 24.0]  # nothing after ``end``
    ranged = bars_frame(
        symbol="TEST", timeframe="1Day", start=utc(2017, 11, 21), end=utc(2017, 11, 23)
    )
    assert list(ranged.close) == [21.0, 22.0]
    assert len(bars_frame(symbol="NONE")) == 0
    assert [b.close for b in bars_iter(symbol="TEST", start=utc(2017, 11, 24))] == [24.0, 27.0]


def test_latest_price_from_cache_then_database(redis_conn):
    bars_upsert(bars=[bar(20, 10.0), bar(21, 11.0)])
    assert latest_price(symbol="TEST") == Decimal("11.0")
    assert not price_cache_set(symbol="TEST", price=9.0, at=utc(2017, 11, 20, 5))  # older: ignored
    assert price_cache_set(symbol="TEST", price=11.5, at=utc(2017, 11, 21, 20))
    point = latest_price_point(symbol="TEST")
    assert point is not None and (point.price, point.at) == (Decimal("11.5"), utc(2017, 11, 21, 20))
    redis_conn.flushdb()  # cache gone: the database answers and refills it
    assert latest_price(symbol="TEST") == Decimal("11.000000")
    assert redis_conn.exists("market:price:TEST")
    assert latest_price(symbol="NONE") is None


def test_gaps_in_daily_and_minute_bars(redis_conn):
    bars_upsert(bars=[bar(d, float(d)) for d in (20, 21, 24, 27)])  # 22nd missing; 23rd a holiday
    assert bars_missing(symbol="TEST", timeframe="1Day") == [utc(2017, 11, 22, 5)]
    assert bars_missing(symbol="TEST", timeframe="1Day", end=utc(2017, 11, 29, 23)) == [
        utc(2017, 11, 22, 5),
        utc(2017, 11, 28, 5),
        utc(2017, 11, 29, 5),
    ]
    minutes = [
        Bar("TEST", "1Min", utc(2017, 11, 24, 14, 30 + i), 1, 1, 1, 1, 1)
        for i in range(5)
        if i != 2
    ]
    bars_upsert(bars=minutes)
    missing = bars_missing(symbol="TEST", timeframe="1Min", end=utc(2017, 11, 24, 14, 34))
    assert missing == [utc(2017, 11, 24, 14, 32)]


def test_commands_load_check_and_replay(redis_conn, capsys):
    call_command("load_bars", "--dataset", "demo")
    assert MarketBar.objects.filter(timeframe="1Day", symbol="AAPL").count() == 1259
    call_command("load_bars", "--dataset", "demo")  # idempotent
    assert MarketBar.objects.filter(timeframe="1Day").count() == 12 * 1259 + 975
    call_command("check_gaps", "AAPL", "--timeframe", "1Day")
    out = capsys.readouterr().out
    assert "AAPL   1Day: 0 missing" in out
    call_command("replay_bars", "AAPL,MSFT", "--timeframe", "1Day", "--quiet")
    out = capsys.readouterr().out
    assert "replayed 2518 bars" in out
    last = MarketBar.objects.filter(symbol="MSFT").order_by("-time").first()
    assert last is not None and latest_price(symbol="MSFT") == last.close
