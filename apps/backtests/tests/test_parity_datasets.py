"""Parity with backtesting.py beyond the shipped reference: other data sets and window pairs,
trade for trade and final equity to the cent.

backtesting.py runs in a child process (``bench/reference_engines.py``, ``python -P``: its import
name clashes with this repository's ``backtesting`` package) on exactly the bars our engine reads.
The data sets are chosen where floating point used to decide: prices quoted in ticks with long flat
stretches (two averages *exactly* equal for many bars, where a cumulative sum's drift invented
crossovers), 24-hour hourly bars with no session calendar, and the bundled real daily bars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apps.execution.costs import BpsCommission
from apps.market.indicators import crossings, mean_order
from backtesting.config import BacktestConfig, SizingKind, StrategySpec
from backtesting.data import frame_build, frame_from_csv, to_ns
from backtesting.engine import backtest_run
from backtesting.sweep import sma_sweep

ROOT = Path(__file__).resolve().parents[3]
WORKER = ROOT / "bench" / "reference_engines.py"
CASH, RATE = 10_000.0, 0.002


def _backtesting_py_trades(frame, tmp_path: Path, fast: int, slow: int) -> dict[str, Any]:
    """backtesting.py's trades on ``frame``, from a child process (``-P``: see the docstring)."""
    npz = tmp_path / "bars.npz"
    np.savez(
        npz,
        time=frame.time,
        open=frame.open,
        high=frame.high,
        low=frame.low,
        close=frame.close,
        volume=frame.volume,
    )
    opts = {"cash": CASH, "commission": RATE, "n1": fast, "n2": slow}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-P", str(WORKER), "backtesting.py", "trades", str(npz), json.dumps(opts)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def _config(ticker: str, fast: int, slow: int) -> BacktestConfig:
    return BacktestConfig(
        symbols=(ticker,),
        strategies=(StrategySpec("sma_cross", {"fast": fast, "slow": slow}),),
        initial_capital=CASH,
        commission=BpsCommission(bps=Decimal(20)),
        sizing=SizingKind.CASH_FRACTION,
        sizing_value=1.0,
    )


def _ticks_with_flat_runs(n: int, seed: int):
    """Cent-quoted prices that often stand still for 20-60 bars (exact ties of the averages)."""
    rng = np.random.default_rng(seed)
    cents = [10_000]
    while len(cents) < n:
        if rng.random() < 0.15:
            cents.extend([cents[-1]] * int(rng.integers(20, 60)))
        else:
            cents.append(max(100, cents[-1] + int(rng.integers(-150, 151))))
    c = np.array(cents[:n], dtype=np.int64)
    o = np.r_[c[0], c[:-1]]
    hi = np.maximum(o, c) + rng.integers(0, 40, n) * (c != o)
    lo = np.minimum(o, c) - rng.integers(0, 40, n) * (c != o)
    return o / 100, hi / 100, lo / 100, c / 100


def _frame(ticker: str, times_ns, o, h, lo, c):
    return frame_build(
        ticker=ticker, time=times_ns, open=o, high=h, low=lo, close=c, volume=np.full(len(c), 1e6)
    )


def tick_daily():
    o, h, lo, c = _ticks_with_flat_runs(3000, seed=7)
    days = np.arange(np.datetime64("2010-01-04"), np.datetime64("2010-01-04") + 3000)
    return _frame("TICK", days.astype("datetime64[ns]").astype(np.int64), o, h, lo, c)


def hourly_24h():
    """Round-the-clock hourly bars (weekends included: no session calendar)."""
    o, h, lo, c = _ticks_with_flat_runs(4000, seed=11)
    t0 = to_ns(datetime(2021, 1, 1, tzinfo=UTC))
    return _frame("H24", t0 + np.arange(4000, dtype=np.int64) * 3_600_000_000_000, o, h, lo, c)


def bundled(ticker: str):
    return frame_from_csv(ROOT / "data" / "bars" / "daily" / f"{ticker}.csv", ticker=ticker)


CASES = [
    ("tick_daily", tick_daily, 10, 20),
    ("tick_daily", tick_daily, 5, 30),
    ("hourly_24h", hourly_24h, 12, 48),
    ("bundled_AAPL", lambda: bundled("AAPL"), 10, 20),
    ("bundled_MSFT", lambda: bundled("MSFT"), 7, 25),
]


@pytest.mark.parametrize(
    ("name", "make", "fast", "slow"), CASES, ids=[f"{c[0]}-{c[2]}/{c[3]}" for c in CASES]
)
def test_trade_for_trade_with_backtesting_py(tmp_path, name, make, fast, slow):
    frame = make()
    ref = _backtesting_py_trades(frame, tmp_path, fast, slow)
    result = backtest_run(_config(frame.ticker, fast, slow), {frame.ticker: frame})
    ours = result.trades
    closed = [t for t in ours if t["status"] == "closed"]
    still_open = [t for t in ours if t["status"] == "open"]
    assert len(closed) >= 10, "a data set with too few trades proves little"
    assert len(closed) == len(ref["closed"])
    for got, want in zip(closed, ref["closed"], strict=True):
        assert (got["entry_bar"], got["exit_bar"], got["size"]) == (
            want["entry_bar"],
            want["exit_bar"],
            want["size"],
        )
        assert got["entry_price"] == want["entry_price"]
        assert got["exit_price"] == want["exit_price"]
        assert got["pnl"] == pytest.approx(want["pnl"], abs=1e-6)
    assert [(t["entry_bar"], t["size"]) for t in still_open] == [
        (t["entry_bar"], t["size"]) for t in ref["open"]
    ]
    assert round(float(result.equity[-1]), 2) == round(ref["final_equity"], 2)


def test_ties_are_ties_however_long_the_history():
    """On a flat stretch the two averages are exactly equal: no crossing is invented there, after
    any amount of history (a running sum's drift used to make one)."""
    frame = tick_daily()
    order = mean_order(frame.close, 10, 20)
    c = frame.close
    flat = np.flatnonzero([i >= 20 and np.all(c[i - 19 : i + 1] == c[i]) for i in range(len(c))])
    assert flat.shape[0] > 100
    assert np.all(order[flat] == 0)
    cross = crossings(order)
    assert np.all(cross[flat] == 0)


def test_the_sweep_study_agrees_with_the_engine_on_tick_data():
    """The vectorised sweep (a backtest-only study) is checked against the engine on tie-rich data."""
    frame = tick_daily()
    pairs = [(5, 20), (10, 20), (5, 30), (10, 40)]
    swept = sma_sweep(frame, pairs, cash=CASH, commission=BpsCommission(bps=Decimal(20)))
    for (fast, slow), equity in zip(pairs, swept, strict=True):
        result = backtest_run(_config("TICK", fast, slow), {"TICK": frame})
        assert float(result.equity[-1]) == pytest.approx(equity, abs=1e-9), (fast, slow)
