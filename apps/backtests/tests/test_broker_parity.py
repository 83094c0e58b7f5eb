"""The engine fills exactly as the live simulated broker does.

The engine fills inline (a broker call per event would cost the replay its speed), so this test
replays the engine's own orders through :func:`apps.execution.brokers.simulated.memory_broker`, bar
by bar as the live pipeline would place them — market orders at the next bar, a protective stop
order after each entry fills, cancelled when a signal exit goes in — and checks that every fill
price, every trigger bar and the final cash agree (the broker books prices and fees to 4
decimals, the engine in floats).
"""

from decimal import Decimal as D

import numpy as np
import pytest

from apps.execution.brokers.base import OrderRequest, OrderSide, OrderStatus, OrderType
from apps.execution.brokers.simulated import memory_broker
from apps.execution.costs import BpsSlippage, PerShareCommission, VolumeSlippage
from backtesting.config import BacktestConfig, SizingKind, StrategySpec
from backtesting.data import from_ns
from backtesting.engine import backtest_run

from .conftest import random_walk, scripted


@pytest.mark.parametrize(
    "slippage", [BpsSlippage(bps=D(5)), VolumeSlippage(impact=D("0.1"))], ids=["bps", "volume"]
)
def test_engine_fills_match_the_simulated_broker(slippage):
    frame = random_walk("AAA", 300, seed=21)
    rng = np.random.default_rng(3)
    scores = rng.choice([-1.0, 0.0, 0.0, 1.0], size=len(frame))
    commission = PerShareCommission(per_share=D("0.01"), minimum=D(1), max_pct=D(0))
    config = BacktestConfig(
        symbols=("AAA",),
        strategies=(StrategySpec("scripted"),),
        initial_capital=10_000.0,
        commission=commission,
        slippage=slippage,
        sizing=SizingKind.FIXED_SHARES,
        sizing_value=20,
        stop_loss_pct=0.02,
    )
    result = backtest_run(config, {"AAA": frame}, strategies={"scripted": scripted(AAA=scores)})
    trades = result.trades
    assert sum(t["exit_reason"] == "stop" for t in trades) >= 3
    assert sum(t["exit_reason"] == "signal" for t in trades) >= 3

    broker = memory_broker(initial_cash=D(10_000), commission=commission, slippage=slippage)
    entries = {t["entry_bar"]: t for t in trades}
    signal_exits = {t["exit_bar"]: t for t in trades if t["exit_reason"] == "signal"}
    stops: dict[int, str] = {}  # trade number -> broker id of its stop order
    fills: dict[str, tuple[int, float]] = {}  # client id -> (bar, price)

    def submit(cid, side, qty, **kw):
        return broker.submit_order(OrderRequest(cid, "AAA", side, D(str(qty)), **kw))

    for j in range(len(frame)):
        t = signal_exits.get(j)
        if t is not None:
            broker.cancel_order(stops.pop(t["trade"]))
            submit(f"x{t['trade']}", OrderSide.SELL, t["size"])
        t = entries.get(j)
        if t is not None:
            submit(f"e{t['trade']}", OrderSide.BUY, t["size"])
        updates = broker.on_bar(
            "AAA",
            time=from_ns(int(frame.time[j])),
            open=repr(float(frame.open[j])),
            high=repr(float(frame.high[j])),
            low=repr(float(frame.low[j])),
            close=repr(float(frame.close[j])),
            volume=repr(float(frame.volume[j])),
        )
        for u in updates:
            if u.order.status == OrderStatus.FILLED:
                fills[u.order.client_order_id] = (j, float(u.order.filled_avg_price or 0))
        if t is not None:  # the protective stop goes in once the entry has filled
            order = submit(
                f"s{t['trade']}",
                OrderSide.SELL,
                t["size"],
                type=OrderType.STOP,
                stop_price=D(repr(t["stop_price"])).quantize(D("0.000001")),
                time_in_force="gtc",
            )
            stops[t["trade"]] = order.broker_order_id

    for t in trades:
        bar, price = fills[f"e{t['trade']}"]
        assert (bar, price) == (t["entry_bar"], pytest.approx(t["entry_price"], abs=5e-5))
        if t["status"] != "closed":
            continue
        key = f"s{t['trade']}" if t["exit_reason"] == "stop" else f"x{t['trade']}"
        bar, price = fills[key]
        assert (bar, price) == (t["exit_bar"], pytest.approx(t["exit_price"], abs=5e-5)), t
    open_value = sum(t["size"] * float(frame.close[-1]) for t in trades if t["status"] == "open")
    cash = float(broker.account().cash)
    assert cash == pytest.approx(float(result.equity[-1]) - open_value, abs=0.01 * len(trades))
