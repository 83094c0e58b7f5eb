"""The stage consumers end to end in-process: news:scored -> signal -> signals:generated -> order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from apps.bus import outbox
from apps.bus.names import Stream
from apps.core import codec
from apps.execution.models import Trade
from apps.execution.services import broker_default
from apps.sentiment.contracts import ScoredArticle, TickerSentiment
from apps.strategies.contracts import Direction, SignalEvent, StrategyContribution
from apps.strategies.models import Signal
from apps.strategies.seed import strategies_seed
from apps.strategies.tests.dbdata import article_scored, bars_create
from tasks.consumers.execution import ExecutionConsumer
from tasks.consumers.signals import SignalsOnNewsConsumer


@pytest.mark.django_db(transaction=True)
def test_scored_news_re_evaluates_the_named_traded_tickers(redis_conn, settings):
    settings.TRADING_SYMBOLS = ["TST"]
    strategies_seed()
    bars_create("TST", date(2017, 1, 3), date(2017, 6, 30))
    from django.utils import timezone

    # the decision is made now: news from an hour ago is fresh (bars are whatever is stored)
    art = article_scored("TST", timezone.now() - timedelta(hours=1), 0.8)
    from django.db import transaction

    with transaction.atomic():
        outbox.publish(
            Stream.NEWS_SCORED.value,
            ScoredArticle(
                article_id=art.pk,
                published_at=art.published_at,
                scores=(TickerSentiment("TST", 0.8, 0.9), TickerSentiment("ZZZ", -0.5, 0.9)),
                model_used="test@1",
            ),
        )
    assert SignalsOnNewsConsumer().consume() == 1
    (signal,) = Signal.objects.all()  # only the traded ticker
    assert signal.ticker == "TST" and signal.sentiment_score == pytest.approx(0.8)
    out = redis_conn.xrange(Stream.SIGNALS_GENERATED.value)
    assert len(out) == 1
    event = codec.loads(out[0][1][b"body"])
    assert isinstance(event, SignalEvent) and event.signal_id == signal.pk


@pytest.mark.django_db(transaction=True)
def test_news_triggered_signal_is_decided_on_the_replay_clock(redis_conn, settings):
    """Under a replay the wall clock is years ahead: the decision takes the replay's time, so it
    sees the bars and articles of then, not everything stored (issue 9: 3,495 of 3,515 signals of
    a default run were decided "today")."""
    from apps.market.services import replay_clock_set

    settings.TRADING_SYMBOLS = ["TST"]
    strategies_seed()
    closes = bars_create("TST", date(2017, 1, 3), date(2017, 6, 30))
    market_time = closes[80]  # a session close in April 2017
    replay_clock_set(at=market_time)
    before = article_scored("TST", market_time - timedelta(hours=2), 0.6)
    later = article_scored("TST", market_time + timedelta(days=3), -0.9)  # not yet published
    from django.db import transaction

    with transaction.atomic():
        for art, score in ((before, 0.6), (later, -0.9)):
            outbox.publish(
                Stream.NEWS_SCORED.value,
                ScoredArticle(
                    article_id=art.pk,
                    published_at=art.published_at,
                    scores=(TickerSentiment("TST", score, 0.9),),
                    model_used="test@1",
                ),
            )
    assert SignalsOnNewsConsumer().consume() == 2
    (signal,) = Signal.objects.all()  # both articles map to the one (ticker, market time)
    assert signal.decided_at == market_time
    assert signal.sentiment_score == pytest.approx(0.6)  # the later article is invisible
    assert float(signal.price) == pytest.approx(float(_close_at("TST", market_time)))


def _close_at(ticker: str, visible_at: datetime) -> Decimal:
    from apps.market.models import MarketBar

    row = MarketBar.objects.filter(symbol=ticker, time__lte=visible_at).order_by("-time").first()
    assert row is not None
    return row.close


@pytest.mark.django_db(transaction=True)
def test_execution_consumer_claims_in_the_transaction_and_sends_after(redis_conn):
    broker = broker_default()
    t = datetime(2017, 3, 1, 21, tzinfo=UTC)
    broker.on_bar("AAA", time=t, open=50, high=50, low=50, close=50)
    sig = Signal.objects.create(
        ticker="AAA",
        direction="long",
        strength=0.7,
        price=50,
        decided_at=t,
        strategy_sources=[{"strategy": "momentum", "score": 0.7, "weight": 1.0}],
    )
    event = SignalEvent(
        signal_id=sig.pk,
        ticker="AAA",
        direction=Direction.LONG,
        strength=0.7,
        contributions=(StrategyContribution("momentum", 0.7, 1.0),),
        decided_at=t,
        price=sig.price,
    )
    from django.db import transaction

    with transaction.atomic():
        outbox.publish(Stream.SIGNALS_GENERATED.value, event)
        outbox.publish(Stream.SIGNALS_GENERATED.value, event)  # the same signal delivered twice
    assert ExecutionConsumer().consume() == 2
    (trade,) = Trade.objects.all()
    assert trade.status == Trade.Status.ACCEPTED and trade.strategy == "momentum"
    assert [o.client_order_id for o in broker.open_orders()] == [trade.client_order_id]
    broker.on_bar("AAA", time=t + timedelta(days=1), open=51, high=52, low=50, close=51)
    from apps.execution.services import context_live, orders_sync

    orders_sync(context_live(broker))
    trade.refresh_from_db()
    assert trade.status == Trade.Status.FILLED
    kinds = {o.type for o in broker.open_orders()}
    assert kinds == {"stop"}  # the protective stop rests at the broker


@pytest.mark.django_db(transaction=True)
def test_tasks_market_tick_fills_from_stored_bars_and_generate_decides(redis_conn, settings):
    from apps.execution.services import context_live, order_submit
    from apps.execution.services.orders import OrderSpec
    from tasks.execution import market_tick, reconcile, sync_orders
    from tasks.signals import generate

    strategies_seed()
    closes = bars_create("TST", date(2017, 1, 3), date(2017, 3, 31))
    broker = broker_default()
    ctx = context_live(broker)
    broker.on_bar("TST", time=closes[-3], open=100, high=100, low=100, close=100)
    trade = order_submit(
        ctx,
        spec=OrderSpec(ticker="TST", side="buy", qty=Decimal(2), purpose="entry"),
        client_order_id="tb-tick-1",
        decided_at=closes[-3],
    )
    assert trade.status == "accepted"
    market_tick.apply(args=(["TST"], closes[-1].isoformat()))  # the newest stored bar arrives
    trade.refresh_from_db()
    assert trade.status == "filled"
    assert sync_orders.apply().get() == 0
    assert reconcile.apply().get()["mismatches"] == 0
    signal_id = generate.apply(args=("TST", closes[-1].isoformat())).get()
    assert signal_id is not None
    assert Signal.objects.get(pk=signal_id).decided_at == closes[-1]
