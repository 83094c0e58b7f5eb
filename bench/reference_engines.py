"""Reference engines for ``bench.backtest_bench``, run as a separate process.

Run as a script with ``python -P`` so that ``import backtesting`` finds backtesting.py (PyPI,
AGPL-3.0) and not this repository's own ``backtesting`` package. Nothing here imports project code.
Usage: ``python -P bench/reference_engines.py ENGINE TASK DATA.npz [options as JSON]``; prints one
JSON line with the figures. Only the engine call is timed (not reading the data or importing).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def load(path: str) -> pd.DataFrame:
    d = np.load(path)
    idx = pd.to_datetime(d["time"], utc=False)
    return pd.DataFrame(
        {
            "Open": d["open"],
            "High": d["high"],
            "Low": d["low"],
            "Close": d["close"],
            "Volume": d["volume"],
        },
        index=idx,
    )


# --------------------------------------------------------------------------------------------
# backtesting.py
# --------------------------------------------------------------------------------------------


try:  # module level, so that optimize's worker processes can pickle the class
    from backtesting import Strategy as _BtStrategy
    from backtesting.lib import crossover as _crossover
    from backtesting.test import SMA as _SMA
except ImportError:  # backtesting.py not installed: only its tasks fail
    _BtStrategy = object  # type: ignore[assignment,misc]


class BtPySmaCross(_BtStrategy):  # type: ignore[misc,valid-type]
    n1 = 10
    n2 = 20
    fixed = 0

    def init(self):
        self.fast = self.I(_SMA, self.data.Close, self.n1)
        self.slow = self.I(_SMA, self.data.Close, self.n2)

    def next(self):
        if _crossover(self.fast, self.slow):
            if not self.position:
                # all in: backtesting.py sizes floor(cash / (next open * (1 + commission)))
                self.buy(size=self.fixed or 0.9999999999)
        elif _crossover(self.slow, self.fast) and self.position:
            self.position.close()


def run_backtesting_py(df: pd.DataFrame, opts: dict) -> dict:
    from backtesting import Backtest

    bt = Backtest(
        df, BtPySmaCross, cash=opts["cash"], commission=opts["commission"], finalize_trades=False
    )
    t = time.perf_counter()
    stats = bt.run(fixed=opts.get("fixed", 0))
    dt = time.perf_counter() - t
    open_trades = len(stats._strategy.trades)
    return {
        "seconds": dt,
        "trades": len(stats._trades) + open_trades,
        "final_equity": float(stats["Equity Final [$]"]),
    }


def trades_backtesting_py(df: pd.DataFrame, opts: dict) -> dict:
    """Every trade of one run (the parity tests compare them with ours, trade for trade)."""
    from backtesting import Backtest

    bt = Backtest(
        df, BtPySmaCross, cash=opts["cash"], commission=opts["commission"], finalize_trades=False
    )
    stats = bt.run(n1=opts.get("n1", 10), n2=opts.get("n2", 20))
    closed = [
        {
            "entry_bar": int(r.EntryBar),
            "exit_bar": int(r.ExitBar),
            "size": int(r.Size),
            "entry_price": float(r.EntryPrice),
            "exit_price": float(r.ExitPrice),
            "pnl": float(r.PnL),
        }
        for r in stats._trades.itertuples()
    ]
    still_open = [
        {"entry_bar": int(t.entry_bar), "size": int(t.size), "entry_price": float(t.entry_price)}
        for t in stats._strategy.trades
    ]
    return {
        "closed": closed,
        "open": still_open,
        "final_equity": float(stats["Equity Final [$]"]),
    }


def sweep_backtesting_py(df: pd.DataFrame, opts: dict) -> dict:
    from backtesting import Backtest

    bt = Backtest(
        df, BtPySmaCross, cash=opts["cash"], commission=opts["commission"], finalize_trades=False
    )
    fasts, slows = opts["fasts"], opts["slows"]
    t = time.perf_counter()
    _, heat = bt.optimize(n1=fasts, n2=slows, maximize="Equity Final [$]", return_heatmap=True)
    dt = time.perf_counter() - t
    eq = [float(heat.loc[(f, s)]) for f in fasts for s in slows]
    return {"seconds": dt, "equities": eq}


# --------------------------------------------------------------------------------------------
# backtrader
# --------------------------------------------------------------------------------------------


def run_backtrader(df: pd.DataFrame, opts: dict) -> dict:
    import backtrader as bt

    fixed = opts.get("fixed", 0)
    counter = {"entries": 0}

    class SmaCross(bt.Strategy):
        def __init__(self):
            fast = bt.ind.SMA(self.data.close, period=10)
            slow = bt.ind.SMA(self.data.close, period=20)
            self.cross = bt.ind.CrossOver(fast, slow)
            self.want = 0

        def next(self):  # decide at the close...
            if fixed:  # a market order fills at the next open: no cheat-on-open needed
                if not self.position and self.cross[0] > 0:
                    self.buy(size=fixed)
                    counter["entries"] += 1
                elif self.position and self.cross[0] < 0:
                    self.close()
                return
            if not self.position and self.cross[0] > 0:
                self.want = 1
            elif self.position and self.cross[0] < 0:
                self.want = -1

        def next_open(self):  # ... fill at the next open (cheat-on-open sees that open)
            if self.want > 0:
                size = fixed or math.floor(self.broker.getcash() / (self.data.open[0] * 1.002))
                self.buy(size=size)
                counter["entries"] += 1
            elif self.want < 0:
                self.close()
            self.want = 0

    cerebro = bt.Cerebro(cheat_on_open=not fixed, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=df))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(opts["cash"])
    cerebro.broker.setcommission(commission=opts["commission"])
    t = time.perf_counter()
    cerebro.run(runonce=True, preload=True)
    dt = time.perf_counter() - t
    return {"seconds": dt, "trades": counter["entries"], "final_equity": cerebro.broker.getvalue()}


# --------------------------------------------------------------------------------------------
# vectorbt
# --------------------------------------------------------------------------------------------


def _vbt_signals(df: pd.DataFrame, fast, slow):
    import vectorbt as vbt

    f = vbt.MA.run(df["Close"], window=fast, short_name="fast", param_product=False)
    s = vbt.MA.run(df["Close"], window=slow, short_name="slow", param_product=False)
    up = f.ma_crossed_above(s)
    down = f.ma_crossed_below(s)
    # decided at the close, filled at the next open: shift the signals by one bar
    return up.vbt.fshift(1).fillna(False).astype(bool), down.vbt.fshift(1).fillna(False).astype(
        bool
    )


def _vbt_portfolio(df, entries, exits, opts, size):
    import vectorbt as vbt

    return vbt.Portfolio.from_signals(
        df["Close"],
        entries,
        exits,
        price=df["Open"],
        fees=opts["commission"],
        init_cash=opts["cash"],
        size=size,
        size_granularity=1,
        accumulate=False,
    )


def run_vectorbt(df: pd.DataFrame, opts: dict) -> dict:
    fixed = opts.get("fixed", 0)
    size = float(fixed) if fixed else np.inf

    def once():
        up, down = _vbt_signals(df, 10, 20)
        pf = _vbt_portfolio(df, up, down, opts, size)
        return pf

    once()  # JIT warm-up
    t = time.perf_counter()
    pf = once()
    dt = time.perf_counter() - t
    return {
        "seconds": dt,
        "trades": int(pf.trades.count()),
        "final_equity": float(pf.final_value()),
    }


def sweep_vectorbt(df: pd.DataFrame, opts: dict) -> dict:
    fasts, slows = opts["fasts"], opts["slows"]
    fw = [f for f in fasts for _ in slows]
    sw = [s for _ in fasts for s in slows]

    def once():
        up, down = _vbt_signals(df, fw, sw)
        up.columns = down.columns = range(len(fw))
        pf = _vbt_portfolio(df, up, down, opts, np.inf)
        return pf.final_value()

    once()  # JIT warm-up
    t = time.perf_counter()
    fv = once()
    dt = time.perf_counter() - t
    return {"seconds": dt, "equities": [float(x) for x in np.asarray(fv)]}


TASKS = {
    ("backtesting.py", "run"): run_backtesting_py,
    ("backtesting.py", "sweep"): sweep_backtesting_py,
    ("backtesting.py", "trades"): trades_backtesting_py,
    ("backtrader", "run"): run_backtrader,
    ("vectorbt", "run"): run_vectorbt,
    ("vectorbt", "sweep"): sweep_vectorbt,
}


def main() -> None:
    engine, task, path = sys.argv[1:4]
    opts = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    df = load(path)
    out = TASKS[(engine, task)](df, opts)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
