"""The learning consumer end to end on real Redis and PostgreSQL."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from apps.bus import outbox
from apps.bus.names import Stream
from apps.execution.contracts import TradeEvent
from apps.execution.models import Trade
from apps.learning.models import LearningAdjustment, LearningCycle, TradeOutcome
from apps.learning.tests.conftest import round_trip
from apps.strategies.models import Strategy
from conftest import wait_for
from tasks.consumers.learning import LearningConsumer
from tasks.learning import PENDING_KEY

SOURCES = [
    {"strategy": "momentum", "score": 0.8, "weight": 0.33333333},
    {"strategy": "mean_reversion", "score": -0.2, "weight": 0.33333333},
    {"strategy": "news_driven", "score": 0.4, "weight": 0.33333333},
]


def event_for(trade, *, closed: bool, pnl: str | None = None) -> TradeEvent:
    return TradeEvent(
        trade_id=trade.pk,
        client_order_id=trade.client_order_id,
        ticker=trade.ticker,
        side=trade.side,
        qty=trade.filled_qty,
        status="filled",
        timestamp=trade.filled_at,
        price=trade.price,
        strategy="momentum",
        signal_id=trade.signal_id,
        position_closed=closed,
        realized_pnl=D(pnl) if pnl is not None else None,
    )


def duplicates() -> float:
    return (
        REGISTRY.get_sample_value("tradebot_learning_outcomes_total", {"result": "duplicate"}) or 0
    )


@pytest.mark.django_db(transaction=True)
def test_close_becomes_an_outcome_once(redis_conn, strategies):
    consumer = LearningConsumer("h6-test")
    consumer.ensure_group()
    _signal, entry, exit_ = round_trip(
        direction="long", sources=SOURCES, entry_px="100", exit_px="103"
    )
    with transaction.atomic():  # the execution stage publishes in the transaction of its write
        outbox.publish(Stream.TRADES_EXECUTED, event_for(entry, closed=False))
        outbox.publish(Stream.TRADES_EXECUTED, event_for(exit_, closed=True, pnl="29.5"))
    assert consumer.consume() == 2

    outcome = TradeOutcome.objects.get()
    assert outcome.trade_id == entry.pk and outcome.exit_trade_id == exit_.pk
    assert outcome.realized_pnl == D("29.5000")  # execution's figure (it knows the fees)
    assert outcome.roi_pct == pytest.approx(2.95)
    assert outcome.was_profitable
    assert outcome.hold_duration == timedelta(days=2)
    assert outcome.closed_at == exit_.filled_at
    # long: momentum 0.8 and news 0.4 pushed for it, mean reversion (-0.2) argued against
    assert outcome.attribution == pytest.approx(
        {"momentum": 0.57142857, "news_driven": 0.28571429, "mean_reversion": -0.14285714}
    )
    # a close queues one debounced learning cycle
    assert redis_conn.exists(PENDING_KEY)

    # Redelivery of the very same stream entry (same event id): the bus's receipts skip it.
    entries = redis_conn.xrange(Stream.TRADES_EXECUTED.value)
    redis_conn.xadd(Stream.TRADES_EXECUTED.value, entries[-1][1])
    # The same close published again under a new event id: the service's own check skips it.
    before = duplicates()
    with transaction.atomic():
        outbox.publish(Stream.TRADES_EXECUTED, event_for(exit_, closed=True, pnl="29.5"))
    assert consumer.consume() == 2
    assert TradeOutcome.objects.count() == 1
    assert duplicates() == before + 1
    assert not redis_conn.xpending(Stream.TRADES_EXECUTED.value, "learning")["pending"]


@pytest.mark.django_db(transaction=True)
def test_short_without_realized_pnl_and_unmatched_exit(redis_conn, strategies):
    consumer = LearningConsumer("h6-test")
    _, _entry, exit_ = round_trip(
        ticker="MSFT",
        direction="short",
        sources=[{"strategy": "mean_reversion", "score": -0.6, "weight": 0.5}],
        entry_px="200",
        exit_px="190",
        qty="5",
    )
    orphan = round_trip(ticker="NVDA")[2]
    Trade.objects.filter(ticker="NVDA", purpose="entry").update(status="canceled")
    with transaction.atomic():
        outbox.publish(Stream.TRADES_EXECUTED, event_for(exit_, closed=True))
        outbox.publish(Stream.TRADES_EXECUTED, event_for(orphan, closed=True))
    assert consumer.consume() == 2
    outcome = TradeOutcome.objects.get()  # the orphan exit (no filled entry) is logged, skipped
    assert outcome.ticker == "MSFT"
    assert outcome.realized_pnl == D("50.0000")  # short: (200 - 190) * 5
    assert outcome.roi_pct == pytest.approx(5.0)
    assert outcome.attribution == {"mean_reversion": 1.0}
    assert not redis_conn.xpending(Stream.TRADES_EXECUTED.value, "learning")["pending"]


@pytest.mark.workers
@pytest.mark.django_db(transaction=True)
def test_closes_drive_a_learning_cycle_on_a_real_worker(redis_conn, strategies, celery_workers):
    """Publish closes; a real worker on the learning queue drains the stream (bus.drain) and runs
    the debounced learning cycle (learning.cycle)."""
    worker = celery_workers(["learning"], {"LEARNING_MIN_TRADES": "3", "LEARNING_DEBOUNCE_S": "1"})
    for i in range(3):
        _, _, exit_ = round_trip(ticker=f"T{i}", sources=SOURCES, exit_px=str(101 + i))
        with transaction.atomic():
            outbox.publish(Stream.TRADES_EXECUTED, event_for(exit_, closed=True))
    try:
        wait_for(lambda: TradeOutcome.objects.count() == 3, timeout=60)
        wait_for(lambda: LearningCycle.objects.filter(kind="update").exists(), timeout=60)
    except AssertionError:
        print(worker.output()[-4000:])
        raise
    cycle = LearningCycle.objects.get()
    assert "trigger close" in cycle.note
    assert cycle.config["update"]["min_trades"] == 3
    adjusted = LearningAdjustment.objects.filter(cycle=cycle.cycle)
    assert {a.strategy.name for a in adjusted} == {"momentum", "mean_reversion", "news_driven"}
    assert sum(s.weight for s in Strategy.objects.all()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_positions_entry_trade_is_preferred(redis_conn, strategies):
    """The execution stage keeps the round trip's opening trade on the flat position; an older
    unclosed entry on the same ticker (say, one whose close was never reported) is not used."""
    from apps.execution.models import Position

    _, stale_entry, stale_exit = round_trip(ticker="AMZN", sources=SOURCES, entry_px="90")
    stale_exit.delete()
    _, entry, exit_ = round_trip(
        ticker="AMZN", sources=SOURCES, entry_px="100", exit_px="99", opened=stale_entry.timestamp
    )
    entry.purpose = Trade.Purpose.EXTERNAL  # adopted from the broker: still the position's entry
    entry.save()
    Position.objects.create(
        ticker="AMZN", qty=0, avg_entry=D(100), opened_at=entry.timestamp, entry_trade=entry
    )
    with transaction.atomic():
        outbox.publish(Stream.TRADES_EXECUTED, event_for(exit_, closed=True, pnl="-10"))
    LearningConsumer("h6-test").consume()
    outcome = TradeOutcome.objects.get()
    assert outcome.trade_id == entry.pk
    assert outcome.roi_pct == pytest.approx(-1.0) and not outcome.was_profitable
