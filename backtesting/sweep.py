"""Parameter sweeps of the SMA crossover, vectorised across all (fast, slow) pairs at once.

A backtest-only study (labelled as such: it sizes all-in and knows one strategy), checked against
the engine pair by pair. Every window sum any pair needs is computed once, and the order of the two
averages of every pair comes from the strategy's own exact comparison
(:func:`apps.market.indicators.mean_orders`). The remaining sequential part —
all-in position sizing compounds trade by trade — walks only the crossover bars of each pair
(tens per pair), so the sweep costs O(pairs · bars) in NumPy plus O(trades) in Python.

The fill rules are the engine's (decision at the close, fill at the next open, long only, exit on
the opposite crossover, all-in sizing ``floor(cash / (price · (1 + fee rate)))``, commission on
both legs, an open position marked at the last close); a test checks the sweep against
:func:`backtesting.engine.backtest_run` pair by pair.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from apps.execution.costs import CommissionModel
from apps.market.indicators import mean_orders
from apps.strategies.base import FloatArray, MarketFrame


def sma_sweep(
    frame: MarketFrame,
    pairs: Sequence[tuple[int, int]],
    *,
    cash: float,
    commission: CommissionModel,
) -> FloatArray:
    """Final equity of the long-only SMA(fast)/SMA(slow) crossover for every ``(fast, slow)``."""
    n = len(frame)
    # the strategy's own exact comparison of the two averages, for all pairs at once
    order = mean_orders(frame.close, pairs)
    with np.errstate(invalid="ignore"):
        below = order < 0  # NaN compares False on both sides, as in the strategy
        above = order > 0
    up = below[:, :-1] & above[:, 1:]  # crossover decided at bar t+1 (column t)
    down = above[:, :-1] & below[:, 1:]
    opens = frame.open.tolist()
    last_close = float(frame.close[-1])
    rate = commission.rate()
    fee = commission.fee_float
    n_pairs = len(pairs)
    # crossover bars of every pair from two nonzero calls, split per pair as plain lists
    up_pair, up_bar = np.nonzero(up)
    down_pair, down_bar = np.nonzero(down)
    up_cut = np.searchsorted(up_pair, np.arange(n_pairs + 1)).tolist()
    down_cut = np.searchsorted(down_pair, np.arange(n_pairs + 1)).tolist()
    up_all = (up_bar + 1).tolist()  # signal bars (column t is bar t + 1)
    down_all = (down_bar + 1).tolist()
    out = np.empty(n_pairs)
    for k in range(n_pairs):
        ups = up_all[up_cut[k] : up_cut[k + 1]]
        downs = down_all[down_cut[k] : down_cut[k + 1]]
        n_up, n_down = len(ups), len(downs)
        c = cash
        shares = 0.0
        t = -1
        while True:
            i = bisect_right(ups, t)
            if i >= n_up or ups[i] + 1 >= n:
                break
            sig = ups[i]
            entry_px = opens[sig + 1]
            shares = float(math.floor(c / (entry_px * (1.0 + rate))))
            if shares <= 0:
                t = sig
                continue
            c -= shares * entry_px + fee(shares, entry_px)
            j = bisect_right(downs, sig)
            if j >= n_down or downs[j] + 1 >= n:
                break  # still open at the end
            t = downs[j]
            exit_px = opens[t + 1]
            c += shares * exit_px - fee(shares, exit_px)
            shares = 0.0
        out[k] = c + shares * last_close
    return out
