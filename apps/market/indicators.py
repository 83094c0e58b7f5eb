"""Indicators shared by live trading and the backtester (pure, numpy).

One ATR: Wilder's average true range over the last ``ATR_LOOKBACK`` bars up to the decision bar.
Live reads exactly those bars (``bars_frame_upto(limit=ATR_LOOKBACK)``); the backtester slices the
same window out of its frame at the decision bar, so both size from the same number.
"""

from __future__ import annotations

import math

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
