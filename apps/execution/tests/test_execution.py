"""Execution services on the simulated broker: orders, fills, positions, stops, switch, reconcile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from prometheus_client import REGISTRY

from apps.bus.names import Stream
from apps.core import codec
from apps.execution.brokers.base import BrokerOrder, OrderRequest, OrderSide, OrderStatus, OrderType
from apps.execution.brokers.simulated import memory_broker
from apps.execution.contracts import TradeEvent
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl
from apps.execution.risk import RiskConfig
from apps.execution.services import (
    ExecutionContext,
    client_order_id_for,
    order_apply,
    orders_sync,
    reconcile,
    signal_execute,
    signal_view_from_row,
    trading_control,
    trading_pause,
    trading_resume,
)
from apps.strategies.models import Signal

T0 = datetime(2017, 3, 1, 21, 0, tzinfo=UTC)
SOURCES = [
    {"strategy": "momentum", "score": 0.8, "weight": 0.5},
    {"strategy": "mean_reversion", "score": 0.1, "weight": 0.5},
]


def make_ctx(**risk) -> ExecutionContext:
    broker: Any = memory_broker(initial_cash=100_000)
    return ExecutionContext(
        broker=broker,
        label="simulated",
        publish=True,
        risk=RiskConfig(**risk),
        clock=lambda: T0,
    )


def signal(ticker="X", direction="long", day=0, price="100", strength=0.6) -> Signal:
    return Signal.objects.create(
        ticker=ticker,
        direction=direction,
        strength=strength,
        strategy_sources=SOURCES,
        price=D(price),
        decided_at=T0 + timedelta(days=day),
    )


def bar(ctx, day, o, h=None, l=None, c=None, ticker="X"):  # noqa: E741
    ctx.broker.on_bar(
        ticker,
        time=T0 + timedelta(days=day, hours=-6),
        open=o,
        high=h or o,
        low=l or o,
        close=c or o,
        volume=1_000_000,
    )
    return orders_sync(ctx)


def metric(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def act(ctx, sig, atr=2.0):
    return signal_execute(ctx, signal=signal_view_from_row(sig), atr=atr)


@pytest.mark.django_db(transaction=True)
def test_round_trip_entry_stop_exit_publishes_the_close(redis_conn):
    ctx = make_ctx()
    bar(ctx, 0, "100")
    entry_sig = signal(day=0)
    entry = act(ctx, entry_sig)
    assert entry is not None and entry.status == Trade.Status.ACCEPTED
    assert entry.client_order_id == client_order_id_for(
        signal_id=entry_sig.pk, ticker="X", decided_at=entry_sig.decided_at, purpose="entry"
    )
    bar(ctx, 1, "101", "102", "100", "101")  # the entry fills at the open; its stop is placed
    entry.refresh_from_db()
    assert (entry.status, entry.price) == (Trade.Status.FILLED, D("101"))
    pos = Position.objects.get(ticker="X")
    assert pos.qty == entry.filled_qty > 0 and pos.avg_entry == D("101")
    stop = Trade.objects.get(purpose=Trade.Purpose.STOP_LOSS)
    assert (stop.side, stop.qty, stop.status) == ("sell", pos.qty, Trade.Status.ACCEPTED)
    assert stop.stop_price == D("96.00")  # 100 - 2 * ATR(2)
    assert pos.stop_order_id == stop.pk
    assert Signal.objects.get(pk=entry_sig.pk).acted_on

    exit_trade = act(ctx, signal(direction="short", day=1, price="110"))
    assert exit_trade is not None and exit_trade.purpose == Trade.Purpose.EXIT
    stop.refresh_from_db()
    assert stop.status == Trade.Status.CANCELED  # canceled before the exit: never a double sell
    bar(ctx, 2, "110")
    exit_trade.refresh_from_db()
    assert exit_trade.status == Trade.Status.FILLED
    pos.refresh_from_db()
    assert pos.qty == 0
    gross = (D("110") - D("101")) * entry.filled_qty
    assert exit_trade.pnl == gross  # no commission in this broker
    assert pos.realized_pnl == gross
    assert ctx.broker.positions() == []

    events = [
        e
        for e in (
            codec.loads(x[1][b"body"]) for x in redis_conn.xrange(Stream.TRADES_EXECUTED.value)
        )
        if isinstance(e, TradeEvent)
    ]
    assert len(events) == len(redis_conn.xrange(Stream.TRADES_EXECUTED.value))
    statuses = [(e.client_order_id, e.status) for e in events]
    assert (entry.client_order_id, "accepted") in statuses
    assert (entry.client_order_id, "filled") in statuses
    closes = [e for e in events if e.position_closed]
    assert len(closes) == 1
    assert closes[0].trade_id == exit_trade.pk
    assert closes[0].realized_pnl == gross
    assert closes[0].signal_id == entry_sig.pk  # credit goes to the signal that opened it
    assert closes[0].strategy == "momentum"


@pytest.mark.django_db
def test_a_redelivered_signal_places_one_order():
    ctx = make_ctx()
    bar(ctx, 0, "100")
    sig = signal()
    first = act(ctx, sig)
    before = metric("tradebot_execution_orders_deduplicated_total", broker="simulated")
    from apps.execution.services.orders import OrderSpec, order_submit

    again = order_submit(
        ctx,
        spec=OrderSpec(ticker="X", side="buy", qty=D(5), purpose="entry"),
        client_order_id=first.client_order_id,
        decided_at=sig.decided_at,
    )
    assert again.pk == first.pk
    assert act(ctx, sig) is None  # an order for X is working: risk does not stack another
    assert len(ctx.broker.open_orders()) == 1
    assert metric("tradebot_execution_orders_deduplicated_total", broker="simulated") == before + 1


@pytest.mark.django_db
def test_crash_between_submit_and_record_leaves_no_duplicate():
    """The broker got the order but our row never committed: the retry records, not re-sends."""
    ctx = make_ctx()
    bar(ctx, 0, "100")
    sig = signal()
    cid = client_order_id_for(
        signal_id=sig.pk, ticker="X", decided_at=sig.decided_at, purpose="entry"
    )
    ctx.broker.submit_order(
        OrderRequest(client_order_id=cid, symbol="X", side=OrderSide.BUY, qty=D(50))
    )
    assert not Trade.objects.exists()
    trade = act(ctx, sig)
    assert trade is not None and trade.client_order_id == cid
    assert trade.status == Trade.Status.ACCEPTED and trade.broker_order_id
    assert trade.updates.filter(event="recovered").exists()
    assert [o.client_order_id for o in ctx.broker.open_orders()] == [cid]


@pytest.mark.django_db
def test_order_state_machine_ignores_late_and_duplicate_updates():
    ctx = make_ctx()
    trade = Trade.objects.create(
        ticker="X", side="buy", qty=D(10), timestamp=T0, client_order_id="tb-sm", broker="simulated"
    )

    def upd(status, filled="0", price=None):
        return BrokerOrder(
            broker_order_id="b-1",
            client_order_id="tb-sm",
            symbol="X",
            side=OrderSide.BUY,
            qty=D(10),
            type=OrderType.MARKET,
            status=OrderStatus(status),
            filled_qty=D(filled),
            filled_avg_price=D(price) if price else None,
            updated_at=T0,
        )

    assert order_apply(ctx, trade=trade, order=upd("accepted"))
    assert not order_apply(ctx, trade=trade, order=upd("accepted"))  # duplicate
    assert order_apply(ctx, trade=trade, order=upd("partially_filled", "4", "100"))
    assert order_apply(ctx, trade=trade, order=upd("filled", "10", "101.2"))
    assert not order_apply(ctx, trade=trade, order=upd("accepted"))  # late: seen before, skipped
    assert not order_apply(ctx, trade=trade, order=upd("canceled", "10", "101.2"))  # after final
    trade.refresh_from_db()
    assert (trade.status, trade.filled_qty, trade.price) == ("filled", D(10), D("101.2"))
    pos = Position.objects.get(ticker="X")
    assert pos.qty == D(10) and pos.avg_entry == D("101.2")  # 4 @ 100 + 6 @ 102
    events = list(TradeUpdate.objects.filter(trade=trade).values_list("event", "status"))
    assert events == [
        ("update", "accepted"),
        ("update", "partially_filled"),
        ("update", "filled"),
        ("update:ignored", "canceled"),
    ]


@pytest.mark.django_db
def test_rejection_is_recorded():
    ctx = make_ctx(max_position_pct=1.0, max_exposure_pct=1.0, risk_per_trade=1.0, fill_buffer=0.0)
    bar(ctx, 0, "100")
    broker: Any = ctx.broker
    broker.on_bar("X", time=T0 + timedelta(hours=1), open=250, high=250, low=250, close=250)
    before = metric("tradebot_execution_order_rejections_total", broker="simulated")
    trade = act(ctx, signal(strength=1.0))  # sized on a stale 100, costs 2.5x the cash at 250
    assert trade is not None and trade.status == Trade.Status.REJECTED
    assert "buying power" in trade.reject_reason
    assert metric("tradebot_execution_order_rejections_total", broker="simulated") == before + 1


@pytest.mark.django_db(transaction=True)  # stops are placed after the fill's commit
def test_kill_switch_cancels_everything_and_resume_restores_stops():
    ctx = make_ctx()
    bar(ctx, 0, "100")
    act(ctx, signal("X"))
    bar(ctx, 1, "100")  # X filled, stop resting
    act(ctx, signal("Y", day=1))  # Y entry working
    assert len(ctx.broker.open_orders()) == 2
    canceled = trading_pause(reason="test", broker=ctx.broker)
    assert len(canceled) == 2 and ctx.broker.open_orders() == []
    orders_sync(ctx)
    assert trading_control().state == TradingControl.State.PAUSED
    assert act(ctx, signal("Z", day=2)) is None
    assert act(ctx, signal("X", direction="short", day=2)) is None  # paused: no exits either
    trading_resume()
    report = reconcile(ctx)
    assert report.stops_placed == ["X"]
    assert [o.symbol for o in ctx.broker.open_orders()] == ["X"]


@pytest.mark.django_db
def test_drawdown_halts_entries_but_not_exits():
    ctx = make_ctx()
    bar(ctx, 0, "100")
    act(ctx, signal("X"))
    bar(ctx, 1, "100")
    control = trading_control()
    control.peak_equity = D(200_000)  # as if equity had been twice as high
    control.save()
    assert act(ctx, signal("Y", day=1)) is None
    control.refresh_from_db()
    assert control.state == TradingControl.State.HALTED
    assert control.reason.startswith("max_drawdown")
    exit_trade = act(ctx, signal("X", direction="short", day=1))
    assert exit_trade is not None and exit_trade.purpose == Trade.Purpose.EXIT


@pytest.mark.django_db
def test_reconcile_adopts_external_orders_fixes_positions_and_halts_until_agreement():
    ctx = make_ctx()
    bar(ctx, 0, "100")
    before = metric(
        "tradebot_execution_reconcile_mismatches_total", broker="simulated", kind="order_external"
    )
    # Someone trades at the broker behind our back: a fill and a resting order.
    ctx.broker.submit_order(
        OrderRequest(client_order_id="manual-1", symbol="X", side=OrderSide.BUY, qty=D(7))
    )
    bar(ctx, 1, "100")
    ctx.broker.submit_order(
        OrderRequest(
            client_order_id="manual-2",
            symbol="X",
            side=OrderSide.SELL,
            qty=D(7),
            type=OrderType.LIMIT,
            limit_price=D(150),
            time_in_force="gtc",
        )
    )
    report = reconcile(ctx)
    assert report.adopted == ["manual-2"]
    assert report.positions_fixed == ["X 0->7"]
    assert report.halted
    assert trading_control().state == TradingControl.State.HALTED
    adopted = Trade.objects.get(client_order_id="manual-2")
    assert adopted.purpose == Trade.Purpose.EXTERNAL and adopted.status == "accepted"
    assert Position.objects.get(ticker="X").qty == D(7)
    assert act(ctx, signal("Y", day=1)) is None  # halted: no entries
    assert (
        metric(
            "tradebot_execution_reconcile_mismatches_total",
            broker="simulated",
            kind="order_external",
        )
        == before + 1
    )
    second = reconcile(ctx)
    assert second.mismatches == 0 and second.resumed
    assert trading_control().state == TradingControl.State.ACTIVE
    assert (
        REGISTRY.get_sample_value(
            "tradebot_execution_reconcile_last_mismatches", {"broker": "simulated"}
        )
        == 0
    )
