"""Backfill and live bars through alpaca-py against the Alpaca stand-in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.market.contracts import Bar
from apps.market.models import MarketBar
from apps.market.selectors import latest_price
from apps.market.sources.alpaca import (
    BarStream,
    backfill,
    chunks,
    historical_client,
    parse_timeframe,
)
from conftest import wait_for
from tests.standins.alpaca.fixtures import alpaca_standin  # noqa: F401


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_parse_timeframe_and_chunks():
    assert str(parse_timeframe("5Min").value) == "5Min"
    assert str(parse_timeframe("1Day").value) == "1Day"
    with pytest.raises(ValueError):
        parse_timeframe("1Fortnight")
    assert len(chunks(utc(2021, 1, 1), utc(2021, 1, 12), "1Min")) == 3


@pytest.mark.django_db
def test_backfill_pages_and_is_idempotent(alpaca_standin, redis_conn):  # noqa: F811
    alpaca_standin.bars.page_size = 50  # force alpaca-py to follow next_page_token
    start, end = utc(2017, 1, 1), utc(2017, 6, 30)
    written = backfill(
        ["AAPL", "MSFT"], start=start, end=end, timeframe="1Day", client=historical_client()
    )
    assert written == {"AAPL": 124, "MSFT": 124}
    assert alpaca_standin.count("GET", "/v2/stocks/bars", 200) == 2 * 3  # 124 bars = 3 pages each
    again = backfill(["AAPL", "MSFT"], start=start, end=end, timeframe="1Day")
    assert again == written
    assert MarketBar.objects.filter(source="alpaca").count() == 248
    first = MarketBar.objects.filter(symbol="AAPL").order_by("time").first()
    assert first is not None
    assert first.time == utc(2017, 1, 3, 5) and first.close == Decimal("116.15")
    assert latest_price(symbol="AAPL") == Decimal("143.68")  # 06-30 starts after ``end``


@pytest.mark.django_db
def test_backfill_command_retries_a_429(alpaca_standin, redis_conn, capsys):  # noqa: F811
    alpaca_standin.inject(status=429, times=1, retry_after_s=0, path="/v2/stocks/bars")
    call_command(
        "backfill_bars",
        "NVDA",
        "--start",
        "2017-03-01",
        "--end",
        "2017-03-31",
        "--timeframe",
        "1Day",
        "--no-progress",
    )
    assert "NVDA: 23 bars" in capsys.readouterr().out
    assert alpaca_standin.count(path="/v2/stocks/bars", status=429) == 1
    assert MarketBar.objects.filter(symbol="NVDA").count() == 23


@pytest.mark.django_db(transaction=True)
def test_stream_bars_writes_live_bars(alpaca_standin, redis_conn):  # noqa: F811
    received: list[Bar] = []
    stream = BarStream(["AAPL"], on_bar=received.append)
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: alpaca_standin.subscribers("bars") == 1, timeout=15)
        bar = {
            "t": utc(2026, 11, 24, 15, 0),
            "o": 230.0,
            "h": 231.0,
            "l": 229.5,
            "c": 230.5,
            "v": 1200,
        }
        assert alpaca_standin.push_bar("AAPL", bar) == 1
        assert alpaca_standin.push_bar("MSFT", bar) == 0  # not subscribed
        wait_for(
            lambda: MarketBar.objects.filter(symbol="AAPL", timeframe="1Min").exists(), timeout=15
        )
    finally:
        stream.stop()
        thread.join(10)
    row = MarketBar.objects.get(symbol="AAPL", timeframe="1Min", time=utc(2026, 11, 24, 15, 0))
    assert (row.close, row.volume, row.source) == (Decimal("230.5"), Decimal(1200), "alpaca")
    assert [b.close for b in received] == [230.5]
    assert latest_price(symbol="AAPL") == Decimal("230.5")
