"""One symbol's replay state: its bars, its strategy scores (computed once, vectorised), the live
ensemble's decisions (computed lazily in chunks, so a weight change only re-decides the bars after
it), and vectorised searches for the next bar where something can happen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from apps.strategies.base import FloatArray, IntArray, MarketFrame
from apps.strategies.ensemble import EnsembleConfig
from backtesting.pipeline import directions_compute

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
class Position:
    qty: float  # signed
    entry_bar: int
    entry_price: float
    entry_fee: float
    signal_bar: int
    shares: dict[str, float]  # attribution of the opening signal
    stop: float | None


@dataclass
class Pending:
    """An order decided at a bar's close, filled at the next open."""

    direction: int  # +1/-1 entry, 0 exit
    signal_bar: int
    shares: dict[str, float] | None = None
    qty: float | None = None  # set by the risk manager at decision time
    stop: float | None = None


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
    atr: FloatArray | None = None
    valid_from: int = 0
    valid_upto: int = 0
    chunk: int = FIRST_CHUNK
    cand: dict[str, IntArray] = field(default_factory=dict)
    position: Position | None = None
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
        """First bar in ``[start, end]`` where the open position's stop is touched; -1 if none."""
        pos = self.position
        if pos is None or pos.stop is None or start > end:
            return -1
        if pos.qty > 0:
            hit = np.flatnonzero(self.frame.low[start : end + 1] <= pos.stop)
        else:
            hit = np.flatnonzero(self.frame.high[start : end + 1] >= pos.stop)
        return int(hit[0]) + start if hit.shape[0] else -1

    def first_bar_after(self, t_ns: int, *, inclusive: bool) -> int:
        return int(self.time.searchsorted(t_ns, side="left" if inclusive else "right"))
