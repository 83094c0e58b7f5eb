"""signal_generate: point-in-time inputs, weights from the table, idempotence, publishing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.bus.names import Stream
from apps.core import codec
from apps.strategies.contracts import SignalEvent
from apps.strategies.models import Signal, Strategy
from apps.strategies.seed import strategies_seed
from apps.strategies.services import signal_generate
from apps.strategies.tests.dbdata import article_scored, bars_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def closes():
    strategies_seed()
    return bars_create("TST", date(2017, 1, 3), date(2017, 9, 29))


def _news_score(signal: Signal) -> float:
    return next(c["score"] for c in signal.strategy_sources if c["strategy"] == "news_driven")


def test_news_after_the_decision_time_is_invisible(closes):
    at = closes[150]
    article_scored("TST", at - timedelta(hours=3), 0.9)
    article_scored("TST", at + timedelta(minutes=1), -1.0)  # the future: must not count
    out = signal_generate(ticker="TST", at=at, publish=False)
    assert out is not None and out.created
    assert out.signal.sentiment_score == pytest.approx(0.9)
    assert _news_score(out.signal) > 0
    assert out.signal.price is not None


def test_bars_after_the_decision_time_are_invisible(closes):
    """The decision at close t is the same whether or not later bars are stored."""
    at = closes[120]
    first = signal_generate(ticker="TST", at=at, publish=False)
    assert first is not None
    Signal.objects.all().delete()
    from apps.market.models import MarketBar

    MarketBar.objects.filter(symbol="TST", time__gt=at).delete()
    again = signal_generate(ticker="TST", at=at, publish=False)
    assert again is not None
    assert (again.signal.direction, again.signal.strength, again.signal.strategy_sources) == (
        first.signal.direction,
        first.signal.strength,
        first.signal.strategy_sources,
    )


def test_a_forming_bar_is_not_used_intraday(closes):
    """At 15:00 UTC the day's bar (stamped midnight New York) has not closed yet."""
    at_close = closes[100]
    intraday = at_close.replace(hour=15, minute=0) + timedelta(days=1)
    a = signal_generate(ticker="TST", at=at_close, publish=False)
    b = signal_generate(ticker="TST", at=intraday, publish=False)
    assert a is not None and b is not None
    assert a.signal.price == b.signal.price  # both decided on the same (last complete) bar


def test_weights_come_from_the_strategies_table(closes):
    Strategy.objects.update(weight=0)
    Strategy.objects.filter(name="momentum").update(weight=1)
    Strategy.objects.filter(name="news_driven").update(active=False)
    out = signal_generate(ticker="TST", at=closes[140], publish=False)
    assert out is not None
    weights = {c["strategy"]: c["weight"] for c in out.signal.strategy_sources}
    assert weights == {"mean_reversion": 0.0, "momentum": 1.0}


def test_idempotent_on_ticker_and_time(closes):
    a = signal_generate(ticker="TST", at=closes[130], publish=False)
    b = signal_generate(ticker="TST", at=closes[130], publish=False)
    assert a is not None and b is not None
    assert a.created and not b.created and a.signal.pk == b.signal.pk
    assert Signal.objects.count() == 1


def test_no_bars_means_no_signal():
    strategies_seed()
    from django.utils import timezone

    assert signal_generate(ticker="NOPE", at=timezone.now(), publish=False) is None


@pytest.mark.django_db(transaction=True)
def test_publishes_signal_event_after_commit(redis_conn):
    strategies_seed()
    closes = bars_create("TST", date(2017, 1, 3), date(2017, 6, 30))
    out = signal_generate(ticker="TST", at=closes[-1])
    assert out is not None
    entries = redis_conn.xrange(Stream.SIGNALS_GENERATED.value)
    assert len(entries) == 1
    event = codec.loads(entries[0][1][b"body"])
    assert isinstance(event, SignalEvent)
    assert event.signal_id == out.signal.pk and event.ticker == "TST"
    assert {c.strategy for c in event.contributions} == {
        "momentum",
        "mean_reversion",
        "news_driven",
    }
    signal_generate(ticker="TST", at=closes[-1])  # again: nothing new published
    assert len(redis_conn.xrange(Stream.SIGNALS_GENERATED.value)) == 1


def test_scan_decides_once_per_complete_bar(closes):
    from apps.strategies.services import signals_scan

    now = closes[-1] + timedelta(hours=1)
    assert signals_scan(symbols=["TST", "NOPE"], now=now) == ["TST"]
    assert Signal.objects.get().decided_at == closes[-1]
    assert signals_scan(symbols=["TST"], now=now + timedelta(minutes=5)) == []
    # during the next session the day's bar (stored early, e.g. by a stream) is still forming
    forming = closes[-2] - timedelta(hours=3)
    assert signals_scan(symbols=["TST"], now=forming) == ["TST"]
    assert Signal.objects.filter(decided_at=closes[-3]).exists()
