"""A real execution worker killed between the broker accepting an order and recording it.

After a restart there is still exactly one order at the broker, and the start-up reconciliation
brings the local trade, position and stop back in line (then lifts its halt). Run against the
simulated broker (state in Redis) and through alpaca-py against the Alpaca stand-in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from apps.bus import outbox
from apps.bus.names import Stream
from apps.execution.brokers.base import Broker
from apps.execution.models import Position, Trade, TradingControl
from apps.execution.services import broker_default, client_order_id_for
from apps.strategies.contracts import Direction, SignalEvent, StrategyContribution
from apps.strategies.models import Signal
from conftest import wait_for

pytestmark = [pytest.mark.workers, pytest.mark.slow]

T = datetime(2017, 3, 1, 21, tzinfo=UTC)
SESSION = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 New York


def _publish_signal(ticker: str, price: Decimal) -> Signal:
    sig = Signal.objects.create(
        ticker=ticker,
        direction="long",
        strength=0.8,
        price=price,
        decided_at=T,
        strategy_sources=[{"strategy": "momentum", "score": 0.8, "weight": 1.0}],
    )
    event = SignalEvent(
        signal_id=sig.pk,
        ticker=ticker,
        direction=Direction.LONG,
        strength=0.8,
        contributions=(StrategyContribution("momentum", 0.8, 1.0),),
        decided_at=T,
        price=price,
    )
    with transaction.atomic():  # after commit: XADD + a drain task on the execution queue
        outbox.publish(Stream.SIGNALS_GENERATED.value, event)
    return sig


def _orders_for(broker: Broker, cid: str) -> int:
    if hasattr(broker, "all_orders"):
        return sum(1 for o in broker.all_orders() if o.client_order_id == cid)
    return int(broker.get_order_by_client_id(cid) is not None)


def _crash_and_recover(celery_workers, broker: Broker, ticker: str, price: Decimal, env, fill):
    sig = _publish_signal(ticker, price)
    cid = client_order_id_for(signal_id=sig.pk, ticker=ticker, decided_at=T, purpose="entry")
    crash_env = {**env, "EXECUTION_FAULT_INJECTION": "after_submit"}

    first = celery_workers(["execution"], crash_env)
    assert first.wait_exit(90) == 137, first.output()[-3000:]
    # The broker has the order; locally it is only claimed (NEW, no broker id).
    assert _orders_for(broker, cid) == 1
    claimed = Trade.objects.get(client_order_id=cid)
    assert claimed.status == Trade.Status.NEW and not claimed.broker_order_id

    # Restart (same fault setting: it fires once per order). Start-up reconciliation recovers it.
    second = celery_workers(["execution"], crash_env)
    wait_for(  # recovered by the start-up reconciliation, which halts until agreement
        lambda: (
            Trade.objects.filter(client_order_id=cid).exclude(status="new").exists()
            and TradingControl.objects.get(pk=1).reason.startswith("reconcile:")
        ),
        90,
    )
    trade = Trade.objects.get(client_order_id=cid)
    assert trade.broker_order_id and trade.updates.filter(event="reconcile").exists()
    assert _orders_for(broker, cid) == 1, "a second order was placed"
    fill()  # the market moves: the order fills (the stand-in fills at once)

    from tasks.execution import reconcile

    def settled() -> bool:
        reconcile.apply_async(queue="execution")
        pos = Position.objects.filter(ticker=ticker).first()
        c = TradingControl.objects.get(pk=1)
        return bool(pos and pos.qty == trade.qty and c.state == TradingControl.State.ACTIVE)

    try:
        wait_for(settled, 90, every=1.0)
    except AssertionError:
        c = TradingControl.objects.get(pk=1)
        pos = list(Position.objects.values_list("ticker", "qty"))
        trades = list(Trade.objects.values_list("client_order_id", "purpose", "status"))
        raise AssertionError(
            f"{c.state} {c.reason} {pos} {trades}\n{second.output()[-4000:]}"
        ) from None
    trade.refresh_from_db()
    assert trade.status == Trade.Status.FILLED
    assert _orders_for(broker, cid) == 1
    broker_pos = {p.symbol: p.qty for p in broker.positions()}
    assert broker_pos[ticker] == Position.objects.get(ticker=ticker).qty
    # the protective stop was placed for the recovered position
    wait_for(
        lambda: Trade.objects.filter(
            ticker=ticker, purpose="stop_loss", status="accepted"
        ).exists(),
        60,
    )
    second.stop()


@pytest.mark.django_db(transaction=True)
def test_crash_between_submit_and_record_simulated(redis_conn, celery_workers):
    broker = broker_default()
    bar = {"open": 50, "high": 50, "low": 50, "close": 50}
    broker.on_bar("AAA", time=T, **bar)

    def fill() -> None:
        broker.on_bar("AAA", time=T + timedelta(days=1), **bar)

    _crash_and_recover(celery_workers, broker, "AAA", Decimal(50), {}, fill)


@pytest.mark.django_db(transaction=True)
def test_crash_between_submit_and_record_alpaca(redis_conn, celery_workers, request):
    standin = request.getfixturevalue("alpaca_standin")
    standin.clock_now = SESSION  # orders are only sent while the market is open
    standin.set_price("AAPL", "150.00")
    from apps.execution.brokers.registry import make_broker

    broker = make_broker("alpaca")
    _crash_and_recover(celery_workers, broker, "AAPL", Decimal(150), standin.env(), lambda: None)
    assert standin.count("POST", "/v2/orders", 200) == 2  # the entry (once) and its stop


@pytest.mark.django_db(transaction=True)
def test_pushed_alpaca_updates_drive_the_state_machine(redis_conn, request):
    """alpaca-py's trade_updates stream -> order_update_apply; polling the same order adds nothing."""
    standin = request.getfixturevalue("alpaca_standin")
    standin.set_price("MSFT", "60.00")
    from apps.execution.brokers.registry import make_broker
    from apps.execution.services import (
        ExecutionContext,
        OrderSpec,
        order_submit,
        order_update_apply,
        orders_sync,
    )

    broker = make_broker("alpaca")
    ctx = ExecutionContext(broker=broker, label="alpaca", publish=False)
    broker.subscribe_updates(lambda u: order_update_apply(ctx, update=u))
    try:
        wait_for(lambda: standin.subscribers() > 0, 30)
        trade = order_submit(
            ctx,
            spec=OrderSpec(ticker="MSFT", side="buy", qty=Decimal(3), purpose="entry"),
            client_order_id="tb-pushed-1",
            decided_at=T,
        )
        wait_for(lambda: Trade.objects.get(pk=trade.pk).status == "filled", 30)
    finally:
        broker.close()
    events = list(trade.updates.values_list("event", flat=True))
    assert "fill" in events, events
    n = len(events)
    orders_sync(ctx)
    assert trade.updates.count() == n  # already applied: polling finds nothing new
    assert Position.objects.get(broker="alpaca", ticker="MSFT").qty == Decimal(3)
