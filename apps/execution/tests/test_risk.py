"""Risk: sizing and stops as scenarios, and property tests that no sequence breaches a limit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.execution.risk import (
    FLAT,
    LONG,
    SHORT,
    Holding,
    Portfolio,
    RiskConfig,
    SignalInput,
    TradingState,
    limits_check,
    order_intent,
    position_size,
    stop_price,
)

CFG = RiskConfig()
EMPTY = Portfolio(equity=100_000, cash=100_000)


# (signal, portfolio, state, expected (side, purpose) or None, reason fragment)
DECISIONS = [
    pytest.param(
        SignalInput("A", LONG, 0.5, 100, 2),
        EMPTY,
        TradingState.ACTIVE,
        ("buy", "entry"),
        "",
        id="long entry",
    ),
    pytest.param(
        SignalInput("A", SHORT, 0.9, 100, 2),
        EMPTY,
        TradingState.ACTIVE,
        None,
        "shorting disabled",
        id="no shorts by default",
    ),
    pytest.param(
        SignalInput("A", FLAT, 0.0, 100, 2),
        EMPTY,
        TradingState.ACTIVE,
        None,
        "flat",
        id="flat, nothing held",
    ),
    pytest.param(
        SignalInput("A", LONG, 0.5, 100, 2),
        EMPTY,
        TradingState.HALTED,
        None,
        "halted",
        id="halted blocks entries",
    ),
    pytest.param(
        SignalInput("A", SHORT, 0.5, 100, 2),
        Portfolio(100_000, 90_000, {"A": Holding(100, 100)}),
        TradingState.HALTED,
        ("sell", "exit"),
        "",
        id="halted still exits",
    ),
    pytest.param(
        SignalInput("A", SHORT, 0.5, 100, 2),
        Portfolio(100_000, 90_000, {"A": Holding(100, 100)}),
        TradingState.PAUSED,
        None,
        "paused",
        id="paused blocks exits too",
    ),
    pytest.param(
        SignalInput("A", LONG, 0.5, 100, 2),
        Portfolio(100_000, 90_000, {"A": Holding(100, 100)}),
        TradingState.ACTIVE,
        None,
        "pyramiding",
        id="no pyramiding",
    ),
    pytest.param(
        SignalInput("F", LONG, 1.0, 100, 2),
        Portfolio(100_000, 50_000, {t: Holding(10, 100) for t in "ABCDE"}),
        TradingState.ACTIVE,
        None,
        "max open positions",
        id="max open positions",
    ),
    pytest.param(
        SignalInput("F", LONG, 1.0, 100, 2),
        Portfolio(100_000, 20_000, {"B": Holding(800, 100)}),
        TradingState.ACTIVE,
        None,
        "max_exposure_pct",
        id="exposure full",
    ),
]


@pytest.mark.parametrize(("signal", "portfolio", "state", "expected", "reason"), DECISIONS)
def test_decisions(signal, portfolio, state, expected, reason):
    d = order_intent(signal=signal, portfolio=portfolio, state=state, config=CFG)
    if expected is None:
        assert d.intent is None
        assert reason in d.reason
    else:
        assert d.intent is not None
        assert (d.intent.side, d.intent.purpose) == expected
        if d.intent.purpose == "exit":
            assert d.intent.qty == abs(portfolio.qty(signal.ticker))


def test_sizing_by_volatility_and_caps():
    # risk 1% * 0.5 of 100k = 500 over a 2*ATR(2)=4 stop -> 125 shares; cap 10% -> 98 shares
    qty, binding = position_size(
        signal=SignalInput("A", LONG, 0.5, 100, 2), portfolio=EMPTY, config=CFG
    )
    assert (qty, binding) == (98, "max_position_pct")
    qty, binding = position_size(
        signal=SignalInput("A", LONG, 0.2, 100, 2), portfolio=EMPTY, config=CFG
    )
    assert (qty, binding) == (50, "risk")
    # unknown ATR: fixed 5% stop distance
    qty, _ = position_size(
        signal=SignalInput("A", LONG, 0.2, 100, None), portfolio=EMPTY, config=CFG
    )
    assert qty == 40


def test_stops():
    assert stop_price("buy", 100, 2, CFG) == 96
    assert stop_price("sell", 100, 2, CFG) == 104
    assert stop_price("buy", 100, None, RiskConfig(stop_mode="fixed", stop_pct=0.03)) == 97
    d = order_intent(
        signal=SignalInput("A", LONG, 0.5, 100, 2),
        portfolio=EMPTY,
        state=TradingState.ACTIVE,
        config=RiskConfig(stop_order_type="trailing_stop"),
    )
    assert d.intent is not None and d.intent.trail_percent == 4.0 and d.intent.stop_price == 96


def test_loss_limits():
    assert (
        limits_check(Portfolio(97_500, 0, day_start_equity=100_000, peak_equity=100_000), CFG)
        is None
    )
    b = limits_check(Portfolio(96_900, 0, day_start_equity=100_000, peak_equity=100_000), CFG)
    assert b is not None and b.limit == "daily_loss"
    b = limits_check(Portfolio(89_000, 0, day_start_equity=90_000, peak_equity=100_000), CFG)
    assert b is not None and b.limit == "max_drawdown"


# ---- properties -----------------------------------------------------------------------------

TICKERS = ["A", "B", "C", "D", "E", "F", "G"]

signal_step = st.tuples(
    st.just("signal"),
    st.sampled_from(TICKERS),
    st.sampled_from([LONG, LONG, SHORT, FLAT]),
    st.floats(0.0, 1.0),
    st.floats(0.0, 10.0),  # ATR
    st.floats(-1.0, 1.0),  # where in [-fill_buffer, +fill_buffer] the next open gaps
)
move_step = st.tuples(st.just("move"), st.sampled_from(TICKERS), st.floats(-0.3, 0.3))
configs = st.builds(
    RiskConfig,
    risk_per_trade=st.floats(0.001, 0.05),
    max_position_pct=st.floats(0.02, 0.5),
    max_exposure_pct=st.floats(0.1, 1.0),
    max_open_positions=st.integers(1, 6),
    stop_mode=st.sampled_from(["atr", "fixed"]),
    stop_pct=st.floats(0.01, 0.2),
    daily_loss_limit_pct=st.floats(0.01, 0.1),
    max_drawdown_pct=st.floats(0.02, 0.3),
    allow_short=st.booleans(),
    exit_on_flat=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    config=configs,
    steps=st.lists(st.one_of(signal_step, move_step), min_size=1, max_size=60),
    paused_at=st.one_of(st.none(), st.integers(0, 60)),
)
def test_no_sequence_of_signals_and_fills_breaches_a_limit(config, steps, paused_at):
    """Every order risk emits fills (at a gap up to ``fill_buffer`` either way); then:

    - a new position is worth at most max_position_pct of the equity it was sized on,
    - gross exposure right after an entry is at most max_exposure_pct of equity,
    - open positions never exceed max_open_positions,
    - cash never goes negative when shorting is off,
    - no entry while HALTED (a loss limit breached) or PAUSED; exits while HALTED still happen,
    - every entry carries a protective stop on the losing side of its price.
    """
    prices = dict.fromkeys(TICKERS, 100.0)
    qty: dict[str, float] = dict.fromkeys(TICKERS, 0.0)
    cash = 100_000.0
    peak = day0 = cash
    state = TradingState.ACTIVE
    eps = 1e-6

    def equity() -> float:
        return cash + sum(qty[t] * prices[t] for t in TICKERS)

    for i, step in enumerate(steps):
        if paused_at is not None and i == paused_at:
            state = TradingState.PAUSED
        if step[0] == "move":
            _, t, r = step
            prices[t] = max(prices[t] * (1 + r), 0.5)
            eq = equity()
            peak = max(peak, eq)
            pf = Portfolio(eq, cash, day_start_equity=day0, peak_equity=peak)
            if limits_check(pf, config) is not None and state == TradingState.ACTIVE:
                state = TradingState.HALTED
            continue
        _, t, direction, strength, atr, gap = step
        eq = equity()
        holdings = {k: Holding(qty[k], prices[k]) for k in TICKERS if qty[k] != 0}
        pf = Portfolio(eq, cash, holdings, day_start_equity=day0, peak_equity=peak)
        d = order_intent(
            signal=SignalInput(t, direction, strength, prices[t], atr),
            portfolio=pf,
            state=state,
            config=config,
        )
        if d.intent is None:
            continue
        intent = d.intent
        assert intent.qty > 0
        fill = prices[t] * (1 + gap * config.fill_buffer)
        if intent.purpose == "entry":
            assert state == TradingState.ACTIVE, "entry while halted/paused"
            assert qty[t] == 0
            assert intent.qty * fill <= config.max_position_pct * eq + eps
            exposure_before = sum(abs(qty[k]) * prices[k] for k in TICKERS)
            assert exposure_before + intent.qty * fill <= config.max_exposure_pct * eq + eps
            assert intent.stop_price is not None
            if intent.side == "buy":
                assert intent.stop_price < prices[t]
            else:
                assert intent.stop_price > prices[t]
        else:
            assert state != TradingState.PAUSED
            assert intent.qty == abs(qty[t])
        signed = intent.qty if intent.side == "buy" else -intent.qty
        qty[t] += signed
        cash -= signed * fill
        prices[t] = fill
        assert sum(1 for k in TICKERS if qty[k] != 0) <= config.max_open_positions
        if not config.allow_short:
            assert all(q >= 0 for q in qty.values())
            assert cash >= -eps
        assert math.isfinite(equity())
