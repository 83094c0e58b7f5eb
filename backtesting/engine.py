"""The backtest engine: a simulated clock over the live stage functions, in memory.

Shape of a run (no database inside the loop; inputs are loaded before, results written after):

1. every strategy scores every symbol's whole frame once (strategies are causal, vectorised);
2. the live ensemble decides each bar (lazily, in chunks, while learning may change weights);
3. an event loop visits only bars where something can happen: a decision that opens or closes a
   position, the next-open fill of that order, a stop touched inside a bar — each found by a
   vectorised search — ordered by (time, phase: open fill < intrabar stop < close signal, symbol);
4. fills go through the shared cost models (:mod:`apps.execution.costs`); a close is attributed
   with the live attribution and, with learning on, fed to the live weight update;
5. the equity curve and metrics are computed afterwards from the fills, vectorised.

Decision at a bar's close, fill at the next bar's open; a decision on the last bar is not filled.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from apps.execution.costs import NoSlippage
from apps.execution.ledger import book_amount, roi, round_trip_pnl
from apps.execution.matching import stop_fill
from apps.execution.risk import (
    RiskConfig,
    RiskMarks,
    TradingState,
    exit_wanted,
    risk_marks_step,
    stop_level,
)
from apps.learning.outcomes import ROI_PCT_DECIMALS
from apps.market.indicators import atr_at
from apps.market.sources.replay import visible_at_ns
from apps.strategies.base import FloatArray, MarketFrame, Strategy
from apps.strategies.ensemble import EnsembleConfig, strategies_score
from apps.strategies.news_driven import NewsDriven, news_view
from backtesting.book import Book, OpenPosition, Pending
from backtesting.config import BacktestConfig, ExitRule, SizingKind
from backtesting.data import frames_hash, from_ns, to_ns
from backtesting.results import BacktestResult, FillRecord, TradeRecord, results_build
from backtesting.sizing import portfolio_at_close, size_by_rule
from backtesting.stages import (
    Learner,
    WeightRecord,
    contributions_at,
    risk_entry,
    shares_compute,
    strategies_build,
)

log = logging.getLogger(__name__)

FILL, STOP, SIGNAL = 0, 1, 2  # phases within one bar time
ProgressFn = Callable[[float], None]


@dataclass
class _State:
    cash: float
    weights: dict[str, float]


def _scores(
    strategies: Mapping[str, Strategy], frame: MarketFrame, timeframe: str
) -> dict[str, FloatArray]:
    """Every strategy's scores on the whole frame; news strategies aggregate the news at each
    bar's decision time, as live does (:func:`apps.strategies.news_driven.news_view`)."""
    plain = {n: s for n, s in strategies.items() if not isinstance(s, NewsDriven)}
    out = strategies_score(plain, frame)
    news = {n: s for n, s in strategies.items() if isinstance(s, NewsDriven)}
    if news:
        view = news_view(frame, visible_at_ns(frame.time, timeframe))
        out.update(strategies_score(news, view))
    return {n: out[n] for n in strategies}


_CONDITIONS = {
    frozenset({-1}): "short",
    frozenset({1}): "long",
    frozenset({0, -1}): "notlong",
    frozenset({0, 1}): "notshort",
}


def _condition(directions: set[int]) -> str:
    return _CONDITIONS[frozenset(directions)]


class Engine:
    """One run. Use :func:`backtest_run`."""

    def __init__(
        self,
        config: BacktestConfig,
        frames: Mapping[str, MarketFrame],
        strategies: Mapping[str, Strategy],
        progress: ProgressFn | None = None,
    ) -> None:
        self.cfg = config
        self.frames = frames
        self.strategies = strategies
        self.progress = progress
        self.state = _State(cash=float(config.initial_capital), weights=config.weights())
        self.learner = (
            Learner(weights=self.state.weights, params=config.learning_params)
            if config.learning
            else None
        )
        ens = EnsembleConfig(
            long_threshold=config.long_threshold,
            short_threshold=config.short_threshold,
            min_coverage=config.min_coverage,
        )
        self.books = [
            Book(
                index=i,
                frame=frames[t],
                scores=_scores(strategies, frames[t], config.timeframe),
                ensemble=ens,
                lazy=config.learning,
            )
            for i, t in enumerate(t for t in sorted(frames) if len(frames[t]) > 0)
        ]
        # attribution depends only on (direction, scores at the signal bar, weights): memoised
        # until the weights change, since a handful of score patterns recur across thousands of trades
        self._shares_memo: dict[tuple[float, ...], dict[str, float]] = {}
        self.heap: list[tuple[int, int, int, int, int]] = []  # (time, phase, book, seq, bar)
        self.fills: list[FillRecord] = []
        self.trades: list[TradeRecord] = []
        self.weight_history: list[WeightRecord] = []
        self.entry_cond = "nonflat" if config.allow_short else "long"
        # the live exit rule (risk.exit_wanted), turned into the decision condition the book
        # searches for: which directions make a long / a short leave
        on_flat = config.exit_rule is ExitRule.FLAT
        self.exit_cond = {
            side: _condition({d for d in (1, 0, -1) if exit_wanted(side, d, exit_on_flat=on_flat)})
            for side in (1, -1)
        }
        self.no_slippage = isinstance(config.slippage, NoSlippage)
        self.now: tuple[int, int] = (-(2**62), SIGNAL)
        self.risk = (
            RiskConfig(**dict(config.risk_params)) if config.sizing is SizingKind.RISK else None
        )
        self.marks = RiskMarks()
        # every close of any symbol, where live decides (and steps the loss limits)
        self._closes = (
            np.unique(np.concatenate([b.time for b in self.books]))
            if self.risk is not None and self.books
            else np.empty(0, dtype=np.int64)
        )
        self._marked = 0  # closes stepped so far
        self.declined: dict[str, int] = {}  # entries the risk manager (or cash) turned down
        if self.learner is not None:
            self.state.weights = self.learner.float_weights()

    # -- planning ----------------------------------------------------------------------------

    def _push(self, book: Book, bar: int, phase: int) -> None:
        heapq.heappush(self.heap, (int(book.time[bar]), phase, book.index, book.seq, bar))

    def _plan(self, book: Book, start: int) -> None:
        """Schedule the book's next event from bar ``start`` (signals at its close or later)."""
        if book.pending is not None:
            return  # a fill is already scheduled and cannot be cancelled by a new decision
        book.seq += 1
        w = self.state.weights
        pos = book.position
        if pos is None:
            bar = book.next_bar(self.entry_cond, start, w)
            if 0 <= bar < book.n:  # on the last bar too: its order is decided, left working
                self._push(book, bar, SIGNAL)
            return
        exit_bar = book.next_bar(self.exit_cond[1 if pos.qty > 0 else -1], start, w)
        last = book.n - 1 if exit_bar < 0 else exit_bar
        # the protective stop order is placed once the entry has filled, so (as at the simulated
        # broker) it can trigger from the bar after the entry bar on
        stop = book.stop_bar(max(start, pos.entry_bar + 1), last)
        if stop >= 0:
            self._push(book, stop, STOP)
        elif 0 <= exit_bar < book.n:
            self._push(book, exit_bar, SIGNAL)

    def _replan_all(self) -> None:
        t, phase = self.now
        for book in self.books:
            book.invalidate()
            if book.pending is None:
                self._plan(book, book.first_bar_after(t, inclusive=phase < SIGNAL))

    # -- money -------------------------------------------------------------------------------

    def _fill(
        self, book: Book, bar: int, qty: float, ref_price: float, phase: int
    ) -> tuple[float, float]:
        """Fill ``qty`` (signed) at ``ref_price`` through slippage and commission; return (px, fee)."""
        cfg = self.cfg
        if self.no_slippage:
            px = ref_price
        else:
            side = "buy" if qty > 0 else "sell"
            vol = float(book.frame.volume[bar])
            px = cfg.slippage.fill_price(side, ref_price, abs(qty), volume=vol or None)
        if cfg.booking_decimals is None:
            fee = cfg.commission.fee_float(abs(qty), px)
        else:  # booked as the simulated broker books: its Decimal arithmetic, then rounding
            px, fee = self._fill_booked(book, bar, qty, ref_price, cfg.booking_decimals)
        self.state.cash -= qty * px + fee
        self.fills.append(FillRecord(book.index, bar, phase, qty, px, fee))
        return px, fee

    def _fill_booked(
        self, book: Book, bar: int, qty: float, ref_price: float, decimals: int
    ) -> tuple[float, float]:
        """Price and fee exactly as the simulated broker books them (Decimal slippage from the
        reference price, then :func:`apps.execution.ledger.book_amount`)."""
        ref = Decimal(repr(ref_price))
        size = Decimal(repr(abs(qty)))
        if self.no_slippage:
            px = ref
        else:
            vol = Decimal(repr(float(book.frame.volume[bar])))
            side = "buy" if qty > 0 else "sell"
            px = self.cfg.slippage.fill_price(side, ref, size, volume=vol or None)
        px = book_amount(px, decimals)
        fee = book_amount(self.cfg.commission.fee(size, px), decimals)
        return float(px), float(fee)

    # -- events ------------------------------------------------------------------------------

    def _on_signal(self, book: Book, bar: int) -> None:
        if book.position is not None:
            book.pending = Pending(0, bar)
        else:
            direction = int(book.dirs[bar])
            key = (direction, *(float(v[bar]) for v in book.score_list))
            shares = self._shares_memo.get(key)
            if shares is None:
                contribs = contributions_at(book.scores, self.state.weights, bar)
                shares = shares_compute(direction=direction, contributions=contribs)
                if all(math.isfinite(k) for k in key):
                    self._shares_memo[key] = shares
            pending = Pending(direction, bar, shares)
            if self.risk is not None and not self._risk_size(book, bar, pending):
                self._plan(book, bar + 1)
                return
            book.pending = pending
        book.seq += 1
        if bar + 1 < book.n:  # a decision on the last bar stays a working order at the end
            self._push(book, bar + 1, FILL)

    def _risk_size(self, book: Book, bar: int, pending: Pending) -> bool:
        """Ask the live risk manager at the decision bar; False when it declines the entry."""
        assert self.risk is not None
        holdings, equity = portfolio_at_close(self.books, self.state.cash, int(book.time[bar]))
        # the live loss-limit policy (stepped at every close by the loop, as live steps it at
        # every signal): daily loss and drawdown, HALTED until reset
        halted = self.marks.state is not TradingState.ACTIVE
        f = book.frame
        qty, stop, trail, reason = risk_entry(
            ticker=book.ticker,
            direction=pending.direction,
            strength=float(book.strength[bar]),
            price=float(book.frame.close[bar]),
            atr=atr_at(f.high, f.low, f.close, bar),  # the live ATR over the same bars
            equity=equity,
            cash=self.state.cash,
            holdings=holdings,
            halted=halted,
            config=self.risk,
        )
        if qty <= 0:
            self.declined[reason] = self.declined.get(reason, 0) + 1
            return False
        pending.qty, pending.stop, pending.trail_percent = float(qty), stop, trail
        return True

    def _on_fill(self, book: Book, bar: int) -> None:
        pending = book.pending
        assert pending is not None
        book.pending = None
        direction = pending.direction
        ref = float(book.frame.open[bar])
        if direction == 0:
            self._close(book, bar, ref, FILL, exit_signal=pending.signal_bar, why="signal")
            return
        est = (
            ref
            if self.no_slippage
            else self.cfg.slippage.fill_price("buy" if direction > 0 else "sell", ref, 1.0)
        )
        if pending.qty is not None:  # sized by risk at the decision; a long never exceeds cash
            qty = pending.qty
            fee = self.cfg.commission.fee_float
            while direction > 0 and qty > 0 and qty * est + fee(qty, est) > self.state.cash:
                qty -= 1.0
        else:
            qty = size_by_rule(
                config=self.cfg,
                books=self.books,
                book=book,
                bar=bar,
                price=est,
                direction=direction,
                cash=self.state.cash,
            )
        if qty <= 0:
            self.declined["no cash at fill"] = self.declined.get("no cash at fill", 0) + 1
            self._plan(book, bar)
            return
        px, fee_paid = self._fill(book, bar, direction * qty, ref, FILL)
        stop = pending.stop
        if stop is None and self.cfg.stop_loss_pct:
            stop = stop_level(direction, px, px * self.cfg.stop_loss_pct)
        book.position = OpenPosition(
            direction * qty,
            bar,
            px,
            fee_paid,
            pending.signal_bar,
            dict(pending.shares or {}),
            stop,
            pending.trail_percent,
        )
        self._plan(book, bar)

    def _on_stop(self, book: Book, bar: int) -> None:
        pos = book.position
        assert pos is not None and pos.stop is not None
        f = book.frame
        # the shared matching rule: a gap through the stop fills at the open, else at the stop
        ref = stop_fill(
            pos.qty < 0,
            book.stop_level(bar),
            float(f.open[bar]),
            float(f.high[bar]),
            float(f.low[bar]),
        )
        assert ref is not None, "stop_bar found a bar the matching rule does not fill"
        self._close(book, bar, ref, STOP, exit_signal=bar, why="stop")

    def _close(
        self, book: Book, bar: int, ref: float, phase: int, *, exit_signal: int, why: str
    ) -> None:
        pos = book.position
        assert pos is not None
        px, fee = self._fill(book, bar, -pos.qty, ref, phase)
        book.position = None
        pnl = round_trip_pnl(
            qty=pos.qty, entry_price=pos.entry_price, exit_price=px, fees=pos.entry_fee + fee
        )
        ret = roi(pnl=pnl, qty=pos.qty, entry_price=pos.entry_price)
        self.trades.append(
            TradeRecord(
                book.index,
                pos.qty,
                pos.signal_bar,
                pos.entry_bar,
                pos.entry_price,
                exit_signal,
                bar,
                px,
                pnl,
                pos.entry_fee + fee,
                ret,
                why,
                pos.shares,
                pos.stop,
            )
        )
        if self.learner is not None and self.learner.observe(
            roi=round(100 * ret, ROI_PCT_DECIMALS) / 100.0,  # as live stores it (roi_pct)
            shares=pos.shares,
            closed_at=from_ns(int(book.time[bar])),
            ticker=book.ticker,
        ):
            self.state.weights = self.learner.float_weights()
            self._shares_memo.clear()
            self.weight_history[:] = self.learner.history
            self._replan_all()
        else:
            self._plan(book, bar)

    def _marks_upto(self, t: int, *, inclusive: bool) -> None:
        """Step the loss-limit marks over every close before ``t`` (and at it, when
        ``inclusive``) with the portfolio as it stood then: positions and cash change only at
        events, and this runs before each one, so live's per-decision marks are reproduced."""
        assert self.risk is not None
        end = int(self._closes.searchsorted(t, side="right" if inclusive else "left"))
        for k in range(self._marked, end):
            tk = int(self._closes[k])
            _, equity = portfolio_at_close(self.books, self.state.cash, tk)
            self.marks, _ = risk_marks_step(
                self.marks, equity=equity, today=from_ns(tk).date(), config=self.risk
            )
        self._marked = max(self._marked, end)

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> BacktestResult:
        trade_from = to_ns(self.cfg.start) if self.cfg.start else None
        for book in self.books:
            start = 0 if trade_from is None else book.first_bar_after(trade_from, inclusive=True)
            self._plan(book, start)
        if trade_from is not None:
            self._marked = int(self._closes.searchsorted(trade_from, side="left"))
        t_first = min((int(b.time[0]) for b in self.books), default=0)
        if trade_from is not None:
            t_first = max(t_first, trade_from)
        t_last = max((int(b.time[-1]) for b in self.books), default=0)
        span = max(t_last - t_first, 1)
        next_report = t_first
        step = span // 100 + 1
        handlers = {FILL: self._on_fill, STOP: self._on_stop, SIGNAL: self._on_signal}
        heap = self.heap
        books = self.books
        while heap:
            t, phase, bi, seq, bar = heapq.heappop(heap)
            book = books[bi]
            if seq != book.seq:
                continue  # superseded by a re-plan
            self.now = (t, phase)
            if self.risk is not None:
                self._marks_upto(t, inclusive=phase == SIGNAL)
            handlers[phase](book, bar)
            if self.progress is not None and t >= next_report:
                self.progress((t - t_first) / span)
                next_report = t + step
        if self.progress is not None:
            self.progress(1.0)
        return results_build(
            config=self.cfg,
            books=books,
            fills=self.fills,
            trades=self.trades,
            weight_history=self.weight_history,
            initial_weights=self.cfg.weights(),
            final_weights=self.state.weights,
            data_hash=frames_hash(self.frames),
            trade_from=trade_from,
            declined=self.declined,
        )


def backtest_run(
    config: BacktestConfig,
    frames: Mapping[str, MarketFrame],
    *,
    strategies: Mapping[str, Strategy] | None = None,
    progress: ProgressFn | None = None,
) -> BacktestResult:
    """Run one backtest over ``frames`` (one per symbol, already point-in-time) in memory."""

    strats = strategies if strategies is not None else strategies_build(config.strategies)
    return Engine(config, frames, strats, progress).run()
