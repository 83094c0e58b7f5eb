"""The engine's rules as scenario tables, determinism, point-in-time news, learning, walk-forward."""

from datetime import timedelta
from decimal import Decimal as D
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from apps.execution.costs import BpsCommission, BpsSlippage, PerOrderCommission
from apps.strategies.news_driven import NewsDriven
from backtesting.config import BacktestConfig, ExitRule, SizingKind, StrategySpec
from backtesting.data import frame_slice, frames_hash, from_ns, sentiment_build
from backtesting.engine import backtest_run
from backtesting.walkforward import WalkForwardConfig, walk_forward

from .conftest import T0, Noise, Oracle, daily_frame, random_walk, scripted

NAN = float("nan")


def cfg(names=("scripted",), **kw):
    base: dict[str, Any] = {
        "symbols": ("AAA",),
        "strategies": tuple(StrategySpec(n) for n in names),
        "initial_capital": 10_000.0,
        "sizing": SizingKind.FIXED_SHARES,
        "sizing_value": 10,
    }
    base.update(kw)
    return BacktestConfig(**base)


def run_script(scores, opens=None, **kw):
    opens = opens if opens is not None else [100.0 + i for i in range(len(scores))]
    frame = daily_frame("AAA", opens)
    return backtest_run(cfg(**kw), {"AAA": frame}, strategies={"scripted": scripted(AAA=scores)})


# (scores per bar, [(signal bar, entry bar, exit signal bar, exit bar)], open trades at the end)
FILL_RULES = [
    ([NAN, 0, 1, 0, 0, -1, 0, 0], [(2, 3, 5, 6)], 0),  # decide at close, fill next open
    ([NAN, 1, 1, 1, -1, -1, 0, 0], [(1, 2, 4, 5)], 0),  # a held signal opens nothing new
    ([NAN, 0, 1, -1, 1, -1, 0, 0], [(2, 3, 3, 4), (4, 5, 5, 6)], 0),  # exit and re-enter
    ([NAN, 0, 0, 0, 0, 0, 0, 1], [], 0),  # a decision on the last bar is not filled
    ([NAN, 0, 0, 1, 0, 0, 0, -1], [], 1),  # ... nor is an exit: the position stays open
    ([0.1, 0.14, -0.1, 0.0], [], 0),  # below the ensemble's 0.15 threshold: nothing
]


@pytest.mark.parametrize(("scores", "closed", "open_"), FILL_RULES)
def test_fill_rules(scores, closed, open_):
    result = run_script(scores)
    got = [
        (t["signal_bar"], t["entry_bar"], t["exit_signal_bar"], t["exit_bar"])
        for t in result.trades
        if t["status"] == "closed"
    ]
    assert got == closed
    assert sum(t["status"] == "open" for t in result.trades) == open_
    for t in result.trades:
        assert t["entry_price"] == 100.0 + t["entry_bar"]  # the open of the fill bar


def test_exit_on_flat_rule():
    scores = [NAN, 1, 1, 0, 0, 0]
    opposite = run_script(scores)
    flat = run_script(scores, exit_rule=ExitRule.FLAT)
    assert [t["status"] for t in opposite.trades] == ["open"]
    assert [(t["exit_signal_bar"], t["exit_bar"]) for t in flat.trades] == [(3, 4)]


def test_short_positions_profit_from_falls():
    result = run_script([NAN, -1, 0, 0, 1, 0], opens=[100, 100, 90, 80, 70, 60], allow_short=True)
    (t,) = result.trades
    assert t["side"] == "short"
    assert (t["entry_price"], t["exit_price"]) == (90.0, 60.0)
    assert t["pnl"] == pytest.approx(10 * 30.0)
    long_only = run_script([NAN, -1, 0, 0, 1, 0])  # the default: the -1 opens nothing
    assert [(t["side"], t["signal_bar"]) for t in long_only.trades] == [("long", 4)]


STOPS = [
    # lows of bars 3.., opens of bars 3.., expected exit bar, expected exit price
    ([99.0, 94.0, 99.0], [101.0, 100.0, 100.0], 4, 95.0),  # touched: filled at the stop
    ([99.0, 89.0, 99.0], [101.0, 90.0, 100.0], 4, 90.0),  # gapped through: filled at the open
    ([99.0, 96.0, 99.0], [101.0, 100.0, 100.0], None, None),  # never touched
]


@pytest.mark.parametrize(("lows", "opens", "exit_bar", "exit_price"), STOPS)
def test_stop_loss(lows, opens, exit_bar, exit_price):
    o = [100.0, 100.0, 100.0, *opens, 100.0]
    lo = [99.0, 99.0, 99.0, *lows, 99.0]
    hi = [x + 5 for x in o]
    frame = daily_frame("AAA", o, closes=o, highs=hi, lows=lo)
    scores = [NAN, 1, 0, 0, 0, 0, 0]  # enters at the open of bar 2, at 100: stop at 95
    result = backtest_run(
        cfg(stop_loss_pct=0.05), {"AAA": frame}, strategies={"scripted": scripted(AAA=scores)}
    )
    t = result.trades[0]
    if exit_bar is None:
        assert t["status"] == "open"
    else:
        assert (t["exit_bar"], t["exit_price"], t["exit_reason"]) == (exit_bar, exit_price, "stop")


def test_costs_use_the_shared_models():
    result = run_script(
        [NAN, 1, 0, -1, 0],
        slippage=BpsSlippage(bps=D(100)),
        commission=PerOrderCommission(fee_per_order=D("2.5")),
    )
    (t,) = result.trades
    assert t["entry_price"] == pytest.approx(102.0 * 1.01)  # buys pay up
    assert t["exit_price"] == pytest.approx(104.0 * 0.99)  # sells receive less
    assert t["commission"] == 5.0
    assert t["pnl"] == pytest.approx(10 * (104.0 * 0.99 - 102.0 * 1.01) - 5.0)
    assert result.metrics["final_equity"] == pytest.approx(10_000.0 + t["pnl"], abs=0.005)


def test_cash_fraction_sizing_never_overspends():
    result = run_script(
        [NAN, 1, 0, -1, 0],
        sizing=SizingKind.CASH_FRACTION,
        sizing_value=1.0,
        commission=BpsCommission(bps=D(20)),
    )
    (t,) = result.trades
    assert t["size"] == 10_000 // (102.0 * 1.002)
    assert float(result.equity.min()) > 0


def test_same_config_and_data_give_byte_identical_trades(walk3):
    strategies = {"oracle": Oracle(), "noise": Noise()}
    c = cfg(
        ("oracle", "noise"),
        symbols=tuple(walk3),
        sizing=SizingKind.RISK,
        initial_capital=100_000.0,
        learning=True,
        learning_params={"update": {"min_trades": 5}},
        commission=BpsCommission(bps=D(5)),
        slippage=BpsSlippage(bps=D(2)),
    )
    a = backtest_run(c, walk3, strategies=strategies)
    b = backtest_run(c, walk3, strategies=strategies)
    assert len(a.trades) > 50
    assert a.trades_json() == b.trades_json()
    assert a.data_hash == b.data_hash == frames_hash(walk3)
    assert a.weight_history == b.weight_history
    changed = dict(walk3)
    changed["AAA"] = random_walk("AAA", 400, seed=99)
    assert frames_hash(changed) != a.data_hash


def test_risk_manager_limits_hold(walk3):
    c = cfg(
        ("oracle",),
        symbols=tuple(walk3),
        sizing=SizingKind.RISK,
        initial_capital=100_000.0,
        risk_params={"max_open_positions": 2, "max_position_pct": 0.1, "stop_mode": "fixed"},
    )
    result = backtest_run(c, walk3, strategies={"oracle": Oracle()})
    closed = [t for t in result.trades if t["status"] == "closed"]
    assert closed
    events = sorted(
        [(t["entry_time"], 1) for t in result.trades] + [(t["exit_time"], -1) for t in closed]
    )
    open_now = peak = 0
    for _, delta in events:  # exits sort before entries at the same time (-1 < 1)
        open_now += delta
        peak = max(peak, open_now)
    assert peak <= 2
    assert result.extras["declined_entries"]  # the cap turned some entries down
    for t in result.trades:  # 10% of equity at decision, sized against a 2% worse fill
        assert t["size"] * t["entry_price"] <= 0.1 * 1.03 * result.equity.max()


def test_a_drawdown_halts_until_reset_even_after_equity_recovers():
    """The live HALT policy: a drawdown past the limit at any close halts entries, and they stay
    halted when equity recovers (the backtester used to resume, and saw only its own decisions)."""
    scores = [NAN, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0]
    closes = [100, 100, 100, 100, 80, 85, 95, 100, 100, 100, 100, 100, 100, 100]
    frame = daily_frame("AAA", closes, closes=closes)
    risk = {
        "stop_mode": "fixed",
        "stop_pct": 0.5,  # far away: the dip does not stop the position out
        "risk_per_trade": 1.0,
        "max_position_pct": 1.0,
        "max_exposure_pct": 1.0,
        "max_drawdown_pct": 0.10,
        "daily_loss_limit_pct": 0.5,
    }
    result = backtest_run(
        cfg(sizing=SizingKind.RISK, risk_params=risk),
        {"AAA": frame},
        strategies={"scripted": scripted(AAA=scores)},
    )
    (trade,) = result.trades  # the second entry signal (bar 11) is refused
    assert (trade["entry_bar"], trade["exit_bar"]) == (3, 9)
    assert float(result.equity.min()) < 0.9 * 10_000  # the drawdown past the 10 % limit
    assert result.extras["declined_entries"] == {"trading halted: entries blocked": 1}


def test_learning_moves_weight_to_the_edge_within_guardrails(walk3):
    c = cfg(
        ("oracle", "noise"),
        symbols=tuple(walk3),
        sizing=SizingKind.EQUITY_FRACTION,
        sizing_value=0.2,
        initial_capital=100_000.0,
        learning=True,
        learning_params={"update": {"min_trades": 10}},
    )
    result = backtest_run(c, walk3, strategies={"oracle": Oracle(), "noise": Noise()})
    hist = result.weight_history
    assert len(hist) > 5
    assert result.final_weights["oracle"] > 0.8 > result.final_weights["noise"]
    for before, after in pairwise(hist):
        w = after["weights"]
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-8)
        assert min(w.values()) >= 0.05 - 1e-12
        for name in w:
            assert abs(w[name] - before["weights"][name]) <= 0.1 + 1e-9
    attributed = result.attribution
    assert attributed["oracle"]["pnl"] > attributed["noise"]["pnl"]
    frozen = backtest_run(
        c.with_(learning=False), walk3, strategies={"oracle": Oracle(), "noise": Noise()}
    )
    assert len(frozen.weight_history) == 1
    assert frozen.final_weights == {"noise": 0.5, "oracle": 0.5}


def news_frame(published_hours, latency_s, scores=None, undated=0):
    """Ten daily bars; articles published ``published_hours`` after T0 (None = undated)."""
    pub = [T0 + timedelta(hours=h) for h in published_hours] + [None] * undated
    series, dropped = sentiment_build(
        published_at=pub,
        score=scores or [0.9] * len(pub),
        confidence=[0.95] * len(pub),
        latency_s=latency_s,
    )
    return daily_frame("AAA", [100.0 + i for i in range(10)], sentiment=series), dropped


@pytest.mark.parametrize(
    ("published_hours", "latency_s", "signal_bar"),
    [
        # news counts at each bar's decision time (its close), as live: the synthetic days are
        # calendar days, so bar 3 (a Saturday, no session) is decided at the next midnight
        ([3 * 24 + 15, 3 * 24 + 16], 60, 3),  # afternoon of day 3: seen at bar 3's decision
        ([3 * 24 + 15, 3 * 24 + 16], 10 * 3600, 4),  # 10 h processing: visible only after it
        ([2 * 24 + 21, 2 * 24 + 21], 0, 2),  # at bar 2's session close (21:00 UTC) exactly
        ([2 * 24 + 21, 2 * 24 + 21], 1, 3),  # a second after it: the next bar
    ],
)
def test_news_is_point_in_time(published_hours, latency_s, signal_bar):
    frame, _ = news_frame(published_hours, latency_s)
    result = backtest_run(
        cfg(("news_driven",), news_latency_s=latency_s),
        {"AAA": frame},
        strategies={"news_driven": NewsDriven()},
    )
    assert result.trades[0]["signal_bar"] == signal_bar
    assert result.trades[0]["attribution"] == {"news_driven": 1.0}


def test_undated_news_is_dropped():
    frame, dropped = news_frame([24.0], 60, scores=[0.9, -0.9], undated=1)
    assert dropped == 1
    assert frame.sentiment.visible_at.tolist() == [
        int(
            np.datetime64((T0 + timedelta(hours=24, seconds=60)).replace(tzinfo=None), "ns").astype(
                np.int64
            )
        )
    ]


def test_future_news_cannot_change_the_past():
    frame, _ = news_frame([2 * 24 + 1, 7 * 24 + 1], 60, scores=[0.9, -0.9])
    cut = frame_slice(frame, None, int(frame.time[5]))
    assert cut.sentiment.visible_at.shape[0] == 1  # the day-7 article is not loaded
    strategies = {"news_driven": NewsDriven()}
    full = backtest_run(cfg(("news_driven",)), {"AAA": frame}, strategies=strategies)
    part = backtest_run(cfg(("news_driven",)), {"AAA": cut}, strategies=strategies)
    # the day-2 article is seen at bar 2's decision (its close), filled at bar 3's open
    assert part.trades[0]["entry_bar"] == full.trades[0]["entry_bar"] == 3


def test_start_trades_from_start_with_history_for_warmup():
    scores = [NAN, 1, 0, 0, 0, -1, 0, 1, 0, -1, 0]
    frame = daily_frame("AAA", [100.0 + i for i in range(11)])
    start = from_ns(int(frame.time[4]))
    result = backtest_run(
        cfg(start=start), {"AAA": frame}, strategies={"scripted": scripted(AAA=scores)}
    )
    assert [t["signal_bar"] for t in result.trades] == [7]
    assert int(result.equity_time[0]) == int(frame.time[4])


def test_walk_forward_learns_in_sample_and_measures_out_of_sample(walk3):
    c = cfg(
        ("oracle", "noise"),
        symbols=tuple(walk3),
        sizing=SizingKind.EQUITY_FRACTION,
        sizing_value=0.2,
        initial_capital=100_000.0,
        learning_params={"update": {"min_trades": 5}},
    )
    wf = walk_forward(
        c,
        walk3,
        WalkForwardConfig(train_bars=150, test_bars=50),
        strategies={"oracle": Oracle(), "noise": Noise()},
    )
    assert len(wf.windows) == 5  # (400 - 150 - 50) // 50 + 1
    for a, b in pairwise(wf.windows):
        assert a["test"][1] < b["test"][0]  # out-of-sample slices do not overlap
    for w in wf.windows:
        assert w["train"][1] < w["test"][0]
        assert w["weight_updates"] > 0
        assert w["learned_weights"]["oracle"] > 0.5
    assert wf.summary["learned_beat_baseline"] >= 4
    assert WalkForwardConfig.parse("250:60:20") == WalkForwardConfig(250, 60, 20)
