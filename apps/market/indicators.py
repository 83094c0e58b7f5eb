"""Indicators shared by live trading and the backtester (pure, numpy).

One ATR: Wilder's average true range over the last ``ATR_LOOKBACK`` bars up to the decision bar.
Live reads exactly those bars (``bars_frame_upto(limit=ATR_LOOKBACK)``); the backtester slices the
same window out of its frame at the decision bar, so both size from the same number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ATR_WINDOW = 14
ATR_LOOKBACK = 60  # bars read for one ATR (the Wilder seed plus its smoothing)


def atr_last(
    high: FloatArray, low: FloatArray, close: FloatArray, window: int = ATR_WINDOW
) -> float | None:
    """Wilder's average true range at the last bar of the arrays (None without enough bars).

    Seeded with the mean of the first ``window`` true ranges, then
    ``atr = (atr · (window − 1) + tr) / window`` on each later bar."""
    n = len(close)
    if n <= window:
        return None
    prev = np.r_[close[0], close[:-1]]
    tr = np.maximum(high - low, np.maximum(np.abs(high - prev), np.abs(low - prev)))[1:]
    atr = float(tr[:window].mean())
    for x in tr[window:]:
        atr = (atr * (window - 1) + float(x)) / window
    return atr if math.isfinite(atr) else None


def atr_at(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    bar: int,
    *,
    lookback: int = ATR_LOOKBACK,
    window: int = ATR_WINDOW,
) -> float | None:
    """The ATR a decision at ``bar`` sees: :func:`atr_last` of the ``lookback`` bars ending there."""
    lo = max(0, bar + 1 - lookback)
    return atr_last(high[lo : bar + 1], low[lo : bar + 1], close[lo : bar + 1], window)


# ---- moving averages with exact comparisons ----------------------------------------------------
#
# A crossover asks whether one average is above, equal to or below another. With prices quoted in
# ticks, two averages are often *exactly* equal; a running (cumulative) float sum drifts by a few
# ulps over thousands of bars and turns such a tie into an invented strict crossover. So:
#
# - prices on a decimal grid (every value an integer number of 10^-k, k <= 6: any quoted price)
#   are summed as int64 multiples of the tick: window sums are exact, the averages are the correctly
#   rounded quotients, and the comparison of two averages is made on the exact integers
#   (``S_fast · n_slow`` vs ``S_slow · n_fast``): a tie is a tie;
# - other data are summed window by window (no drift from earlier bars) and two averages within a
#   few ulps of each other compare as equal.

_MAX_DECIMALS = 6
_ULP_TIE = 1e-12  # relative distance under which two float averages are a tie (off-grid data)


def decimal_scale(values: FloatArray) -> int | None:
    """The smallest ``10^k`` (k <= 6) that makes every finite value an integer, or None."""
    finite = values[np.isfinite(values)]
    if finite.shape[0] == 0:
        return 1
    top = float(np.max(np.abs(finite)))
    for k in range(_MAX_DECIMALS + 1):
        scale = 10**k
        if top * scale * max(finite.shape[0], 1) >= 2.0**52:
            return None  # an int64 window sum (and its cross product) could overflow or round
        scaled = finite * scale
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-7):
            return scale
    return None


def window_sums(values: FloatArray, window: int, scale: int | None) -> FloatArray:
    """Sum of each ``window`` values ending at every bar (NaN before the first full window):
    exact multiples of ``1/scale`` on a decimal grid, else a windowed float sum."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window <= 0 or n < window:
        return out
    if scale is not None:
        ints = np.rint(values * scale).astype(np.int64)
        c = np.cumsum(ints)
        s = np.empty(n - window + 1, dtype=np.int64)
        s[0] = c[window - 1]
        s[1:] = c[window:] - c[:-window]
        out[window - 1 :] = s  # exact (|s| < 2^52), in ticks
        return out
    view = np.lib.stride_tricks.sliding_window_view(values, window)
    out[window - 1 :] = view.sum(axis=1)
    return out


def sma(values: FloatArray, window: int) -> FloatArray:
    """Simple moving average (NaN for the first ``window - 1`` bars), exact on a decimal grid:
    the correctly rounded mean of the window, whatever came before it."""
    scale = decimal_scale(values)
    sums = window_sums(values, window, scale)
    return sums / (window * (scale or 1))


def mean_orders(values: FloatArray, pairs: Sequence[tuple[int, int]]) -> FloatArray:
    """Sign of SMA(fast) − SMA(slow) on every bar for each ``(fast, slow)`` pair (rows): +1, 0 for
    a tie, −1, NaN without history — compared as exact arithmetic would (see above). Each distinct
    window is summed once."""
    scale = decimal_scale(values)
    sums = {w: window_sums(values, w, scale) for w in sorted({w for p in pairs for w in p})}
    out = np.empty((len(pairs), values.shape[0]))
    for k, (fast, slow) in enumerate(pairs):
        sf, ss = sums[fast], sums[slow]
        if scale is not None and max(fast, slow) < 2**10:
            # exact: S_f / n_f vs S_s / n_s  <=>  S_f · n_s vs S_s · n_f (integers: |S| < 2^52,
            # so the products stay below 2^62)
            out[k] = _exact_sign(sf, ss, fast, slow)
            continue
        mf, ms = sf / fast, ss / slow
        with np.errstate(invalid="ignore"):
            d = mf - ms
            tie = np.abs(d) <= _ULP_TIE * np.maximum(np.abs(mf), np.abs(ms))
            sign = np.where(tie, 0.0, np.sign(d))
        sign[~(np.isfinite(sf) & np.isfinite(ss))] = np.nan
        out[k] = sign
    return out


def mean_order(values: FloatArray, fast: int, slow: int) -> FloatArray:
    """:func:`mean_orders` of one pair."""
    return mean_orders(values, [(fast, slow)])[0]


def _exact_sign(sf: FloatArray, ss: FloatArray, fast: int, slow: int) -> FloatArray:
    valid = np.isfinite(sf) & np.isfinite(ss)
    out = np.full(sf.shape[0], np.nan)
    a = sf[valid].astype(np.int64) * slow
    b = ss[valid].astype(np.int64) * fast
    out[valid] = np.sign(a - b)
    return out


def crossings(sign: FloatArray) -> FloatArray:
    """+1 where the order goes strictly below → strictly above (an up-crossing), −1 for the
    reverse, 0 elsewhere (a tie on either side is no crossing), NaN without history."""
    n = sign.shape[0]
    out = np.full(n, np.nan)
    if n < 2:
        return out
    s0, s1 = sign[:-1], sign[1:]
    with np.errstate(invalid="ignore"):
        up = (s0 < 0) & (s1 > 0)
        down = (s0 > 0) & (s1 < 0)
    valid = np.isfinite(s0) & np.isfinite(s1)
    out[1:] = np.where(valid, np.where(up, 1.0, np.where(down, -1.0, 0.0)), np.nan)
    return out


# ---- windowed (finite-memory) indicators ------------------------------------------------------
#
# Live decides from the last ``SIGNALS_LOOKBACK_BARS`` bars; the backtester scores a whole history
# at once. An indicator with infinite memory (an EWM, pandas' running rolling sums) gives the two
# slightly different numbers. These are computed window by window from the values inside the
# window only, with the same arithmetic wherever the window sits, so a score is bit-identical from
# a truncated frame and from the whole history (tests check it).


def _windows(values: FloatArray, window: int) -> npt.NDArray[np.float64]:
    return np.lib.stride_tricks.sliding_window_view(values, window)


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    """Mean of each trailing window (NaN before the first full one or where it holds a NaN)."""
    out = np.full(values.shape[0], np.nan)
    if 0 < window <= values.shape[0]:
        out[window - 1 :] = _windows(values, window).mean(axis=1)
    return out


def rolling_std(values: FloatArray, window: int, ddof: int = 1) -> FloatArray:
    """Standard deviation of each trailing window."""
    out = np.full(values.shape[0], np.nan)
    if 0 < window <= values.shape[0] and window > ddof:
        out[window - 1 :] = _windows(values, window).std(axis=1, ddof=ddof)
    return out


def ewm_window(values: FloatArray, alpha: float, length: int) -> FloatArray:
    """Exponentially weighted mean over a finite trailing window of ``length`` bars: weights
    ``alpha · (1 − alpha)^k`` for the value ``k`` bars back, normalised to sum to 1 (an EWM with
    ``adjust=True`` cut at ``length`` bars). NaN until ``length`` values exist."""
    out = np.full(values.shape[0], np.nan)
    if 0 < length <= values.shape[0]:
        w = alpha * (1.0 - alpha) ** np.arange(length - 1, -1, -1, dtype=np.float64)
        w /= w.sum()
        out[length - 1 :] = _windows(values, length) @ w
    return out


def ema_span_window(values: FloatArray, span: int, memory: float) -> FloatArray:
    """EMA of ``span`` (``alpha = 2 / (span + 1)``) over the last ``ceil(memory · span)`` bars."""
    return ewm_window(values, 2.0 / (span + 1.0), math.ceil(memory * span))
