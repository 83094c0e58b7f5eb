"""One symbol's replay state: its bars, its strategy scores (computed once, vectorised), the live
ensemble's decisions (computed lazily in chunks, so a weight change only re-decides the bars after
it), and vectorised searches for the next bar where something can happen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from apps.execution.matching import trailing_level
from apps.strategies.base import FloatArray, IntArray, MarketFrame
from apps.strategies.ensemble import EnsembleConfig
from backtesting.stages import directions_compute

Int8Array = npt.NDArray[np.int8]

# Conditions on the ensemble direction (+1/0/-1) that the loop searches for.
CONDITIONS: dict[str, Callable[[Int8Array], npt.NDArray[np.bool_]]] = {
    "long": lambda d: d == 1,
    "short": lambda d: d == -1,
    "nonflat": lambda d: d != 0,
    "notlong": lambda d: d != 1,
    "notshort": lambda d: d != -1,
}

FIRST_CHUNK = 1024  # bars decided at a time while learning can change the weights


@dataclass
class OpenPosition:
    qty: float  # signed
    entry_bar: int
    entry_price: float
    entry_fee: float
    signal_bar: int
    shares: dict[str, float]  # attribution of the opening signal
    stop: float | None
    trail_percent: float | None = None  # a trailing stop (the live ``stop_order_type``)


@dataclass
class Pending:
    """An order decided at a bar's close, filled at the next open."""

    direction: int  # +1/-1 entry, 0 exit
    signal_bar: int
    shares: dict[str, float] | None = None
    qty: float | None = None  # set by the risk manager at decision time
    stop: float | None = None
    trail_percent: float | None = None


@dataclass
class Book:
    index: int
    frame: MarketFrame
    scores: dict[str, FloatArray]
    ensemble: EnsembleConfig
    lazy: bool  # True while learning may change weights: decide in growing chunks
    n: int = 0
    time: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    dirs: Int8Array = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    strength: FloatArray = field(default_factory=lambda: np.empty(0))
    valid_from: int = 0
    valid_upto: int = 0
    chunk: int = FIRST_CHUNK
    cand: dict[str, IntArray] = field(default_factory=dict)
    position: OpenPosition | None = None
    pending: Pending | None = None
    score_list: list[FloatArray] = field(default_factory=list)  # scores in sorted-name order
    seq: int = 0  # bumps on every re-plan; stale heap entries are skipped

    def __post_init__(self) -> None:
        self.n = len(self.frame)
        self.time = self.frame.time
        self.dirs = np.zeros(self.n, dtype=np.int8)
        self.strength = np.zeros(self.n)
        self.score_list = [self.scores[k] for k in sorted(self.scores)]

    @property
    def ticker(self) -> str:
        return self.frame.ticker

    def invalidate(self) -> None:
        """Weights changed: decisions from now on must be recomputed."""
        self.valid_upto = self.valid_from
        self.cand.clear()
        self.chunk = FIRST_CHUNK

    def _decide(self, start: int, weights: Mapping[str, float]) -> None:
        upto = min(self.n, start + self.chunk) if self.lazy else self.n
        part = {k: v[start:upto] for k, v in self.scores.items()}
        self.dirs[start:upto], self.strength[start:upto] = directions_compute(
            part, weights, self.ensemble
        )
        self.valid_from, self.valid_upto = start, upto
        self.cand.clear()
        if self.lazy:
            self.chunk = min(self.chunk * 2, max(self.n, FIRST_CHUNK))

    def next_bar(self, cond: str, start: int, weights: Mapping[str, float]) -> int:
        """First bar ``>= start`` whose decision satisfies ``cond``; -1 when there is none.

        Candidate bars are found once per decided chunk (``flatnonzero``), then each query is a
        binary search, so a whole replay costs O(bars + events · log bars)."""
        while start < self.n:
            if not self.valid_from <= start < self.valid_upto:
                self._decide(start, weights)
            arr = self.cand.get(cond)
            if arr is None:
                part = self.dirs[self.valid_from : self.valid_upto]
                arr = np.flatnonzero(CONDITIONS[cond](part)) + self.valid_from
                self.cand[cond] = arr
            p = int(arr.searchsorted(start))
            if p < arr.shape[0]:
                return int(arr[p])
            start = self.valid_upto
        return -1

    def stop_bar(self, start: int, end: int) -> int:
        """First bar in ``[start, end]`` where the open position's stop is touched; -1 if none.

        A vectorised search for the bar where :func:`apps.execution.matching.stop_fill` (or, for
        a trailing stop, :func:`~apps.execution.matching.order_match` with the level of that bar)
        would first fill; :meth:`stop_level` gives that level."""
        pos = self.position
        if pos is None or pos.stop is None or start > end:
            return -1
        f = self.frame
        if pos.trail_percent is not None:
            levels = self.trailing_levels(start, end)
            if pos.qty > 0:
                hit = np.flatnonzero(f.low[start : end + 1] <= levels)
            else:
                hit = np.flatnonzero(f.high[start : end + 1] >= levels)
        elif pos.qty > 0:
            hit = np.flatnonzero(f.low[start : end + 1] <= pos.stop)
        else:
            hit = np.flatnonzero(f.high[start : end + 1] >= pos.stop)
        return int(hit[0]) + start if hit.shape[0] else -1

    def trailing_levels(self, start: int, end: int) -> FloatArray:
        """The trailing stop's level on each bar of ``[start, end]``, as the simulated broker holds
        it: the watermark starts at the entry bar's close (the broker's last price when the stop
        goes in), ratchets on each earlier bar's high (long) / low (short) and the level is
        ``trailing_level`` rounded to the broker's 4 decimals."""
        pos = self.position
        assert pos is not None and pos.trail_percent is not None
        f = self.frame
        e = pos.entry_bar
        seen_hi = f.high[e + 1 : end] if pos.qty > 0 else f.low[e + 1 : end]
        base = float(f.close[e])
        if pos.qty > 0:
            wm = np.maximum.accumulate(np.r_[base, seen_hi])
        else:
            wm = np.minimum.accumulate(np.r_[base, seen_hi])
        wm = wm[start - (e + 1) : end - e]
        return np.round(trailing_level(pos.qty < 0, wm, pos.trail_percent), 4)

    def stop_level(self, bar: int) -> float:
        pos = self.position
        assert pos is not None and pos.stop is not None
        if pos.trail_percent is None:
            return pos.stop
        return float(self.trailing_levels(bar, bar)[0])

    def first_bar_after(self, t_ns: int, *, inclusive: bool) -> int:
        return int(self.time.searchsorted(t_ns, side="left" if inclusive else "right"))
