"""What a backtest produces: trade log, equity curve, metrics, attribution, weight history.

Built once after the loop, vectorised: the equity curve is cash (initial + cumulative fill cash
flows) plus each symbol's position (cumulative fill quantities) marked at its close, on the union of
all symbols' bar times.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import empyrical
import numpy as np

from apps.execution.ledger import roi, round_trip_pnl
from apps.strategies.base import FloatArray, IntArray
from backtesting.config import BacktestConfig, periods_per_year
from backtesting.data import from_ns

if TYPE_CHECKING:
    from backtesting.book import Book
    from backtesting.stages import WeightRecord


class FillRecord(NamedTuple):
    book: int
    bar: int
    phase: int
    qty: float  # signed
    price: float
    fee: float


class TradeRecord(NamedTuple):
    book: int
    qty: float  # signed: + long, - short
    signal_bar: int
    entry_bar: int
    entry_price: float
    exit_signal_bar: int
    exit_bar: int
    exit_price: float
    pnl: float  # after both commissions
    commission: float
    return_pct: float  # pnl / (|qty| · entry price)
    exit_reason: str
    shares: dict[str, float]
    stop: float | None = None  # the protective stop placed after the entry, if any


@dataclass
class BacktestResult:
    config: BacktestConfig
    data_hash: str
    records: list[TradeRecord]  # closed trades in close order, then positions open at the end
    open_count: int
    tickers: list[str]
    bar_times: list[IntArray]
    equity_time: IntArray
    equity: FloatArray
    metrics: dict[str, float | int | None]
    attribution: dict[str, dict[str, float]]
    weight_history: list[dict[str, Any]]
    final_weights: dict[str, float]
    bars: int
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def trades(self) -> list[dict[str, Any]]:
        """The trade log as plain dicts (built on first use; the loop keeps compact records)."""
        return _trade_dicts(self.tickers, self.bar_times, self.records, self.open_count)

    def trades_json(self) -> bytes:
        """The trade list, canonically serialised: equal configs and data give equal bytes."""
        return json.dumps(self.trades, sort_keys=True, separators=(",", ":")).encode()

    def equity_points(self, max_points: int = 2000) -> list[list[Any]]:
        """The equity curve thinned to at most ``max_points`` (first and last kept) for storage."""
        n = self.equity.shape[0]
        if n == 0:
            return []
        idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(np.int64))
        return [
            [from_ns(int(self.equity_time[i])).isoformat(), round(float(self.equity[i]), 4)]
            for i in idx
        ]


def _iso_times(bar_times: Sequence[IntArray], books: IntArray, bars: IntArray) -> list[str | None]:
    """Bar times as ISO strings, converted in one vectorised call (bar -1 gives None)."""
    ns = np.zeros(bars.shape[0], dtype=np.int64)
    for i, times in enumerate(bar_times):
        mine = (books == i) & (bars >= 0)
        ns[mine] = times[bars[mine]]
    txt = np.datetime_as_string(ns.astype("datetime64[ns]"), unit="s").tolist()
    return [t + "+00:00" if b >= 0 else None for t, b in zip(txt, bars.tolist(), strict=True)]


def _trade_dicts(
    tickers: Sequence[str],
    bar_times: Sequence[IntArray],
    records: Sequence[TradeRecord],
    open_count: int,
) -> list[dict[str, Any]]:
    if not records:
        return []
    m = len(records)
    books = np.fromiter((t.book for t in records), dtype=np.int64, count=m)
    entry_t = _iso_times(
        bar_times, books, np.fromiter((t.entry_bar for t in records), dtype=np.int64, count=m)
    )
    exit_t = _iso_times(
        bar_times, books, np.fromiter((t.exit_bar for t in records), dtype=np.int64, count=m)
    )
    first_open = m - open_count
    out: list[dict[str, Any]] = []
    for k, t in enumerate(records):
        closed = k < first_open
        out.append(
            {
                "trade": k + 1,
                "ticker": tickers[t.book],
                "side": "long" if t.qty > 0 else "short",
                "status": "closed" if closed else "open",
                "signal_bar": t.signal_bar,
                "entry_bar": t.entry_bar,
                "entry_time": entry_t[k],
                "entry_price": t.entry_price,
                "exit_signal_bar": t.exit_signal_bar if closed else None,
                "exit_bar": t.exit_bar if closed else None,
                "exit_time": exit_t[k],
                "exit_price": t.exit_price if closed else None,
                "size": abs(t.qty),
                "pnl": t.pnl,
                "commission": t.commission,
                "return_pct": t.return_pct,
                "exit_reason": t.exit_reason,
                "stop_price": t.stop,
                "attribution": dict(sorted(t.shares.items())),
            }
        )
    return out


def open_records(books: Sequence[Book]) -> list[TradeRecord]:
    """Positions still open at the end, marked at the last close (no exit commission)."""
    out = []
    for b in books:
        pos = b.position
        if pos is None:
            continue
        last = float(b.frame.close[-1])
        pnl = round_trip_pnl(
            qty=pos.qty, entry_price=pos.entry_price, exit_price=last, fees=pos.entry_fee
        )
        out.append(
            TradeRecord(
                b.index,
                pos.qty,
                pos.signal_bar,
                pos.entry_bar,
                pos.entry_price,
                -1,
                -1,
                last,
                pnl,
                pos.entry_fee,
                roi(pnl=pnl, qty=pos.qty, entry_price=pos.entry_price),
                "",
                pos.shares,
                pos.stop,
            )
        )
    return out


def equity_build(
    *, books: Sequence[Book], fills: Sequence[FillRecord], cash0: float
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """(times, equity, gross exposure value, in-market flag) on the union of bar times."""
    if not books:
        e = np.empty(0)
        return np.empty(0, dtype=np.int64), e, e, e
    g = books[0].time if len(books) == 1 else np.unique(np.concatenate([b.time for b in books]))
    m = g.shape[0]
    cash_delta = np.zeros(m)
    gross = np.zeros(m)
    value = np.zeros(m)
    if fills:
        fb = np.fromiter((f.book for f in fills), dtype=np.int64, count=len(fills))
        fbar = np.fromiter((f.bar for f in fills), dtype=np.int64, count=len(fills))
        fq = np.fromiter((f.qty for f in fills), dtype=np.float64, count=len(fills))
        fpx = np.fromiter((f.price for f in fills), dtype=np.float64, count=len(fills))
        ffee = np.fromiter((f.fee for f in fills), dtype=np.float64, count=len(fills))
    for b in books:
        last = np.searchsorted(b.time, g, side="right") - 1 if len(books) > 1 else None
        if not fills:
            continue
        mine = fb == b.index
        if not mine.any():
            continue
        bars = fbar[mine]
        pos = np.cumsum(np.bincount(bars, weights=fq[mine], minlength=b.n))
        gidx = bars if last is None else np.searchsorted(g, b.time[bars])
        np.add.at(cash_delta, gidx, -(fq[mine] * fpx[mine] + ffee[mine]))
        val = pos * b.frame.close
        if last is None:
            value += val
            gross += np.abs(val)
        else:
            ok = last >= 0
            value += np.where(ok, val[np.maximum(last, 0)], 0.0)
            gross += np.where(ok, np.abs(val[np.maximum(last, 0)]), 0.0)
    cash = cash0 + np.cumsum(cash_delta)
    equity = cash + value
    return g, equity, gross, (gross > 0).astype(np.float64)


def metrics_compute(
    *,
    equity: FloatArray,
    gross: FloatArray,
    in_market: FloatArray,
    records: Sequence[TradeRecord],
    open_count: int,
    cash0: float,
    timeframe: str,
) -> dict[str, float | int | None]:
    """Headline numbers. Sharpe/Sortino (empyrical) are annualised per bar of ``timeframe``."""
    pnl = np.fromiter((t.pnl for t in records), dtype=np.float64, count=len(records))
    closed = pnl[: len(records) - open_count]
    gains = float(closed[closed > 0].sum())
    losses = -float(closed[closed <= 0].sum())
    final = float(equity[-1]) if equity.shape[0] else cash0
    out: dict[str, float | int | None] = {
        "initial_capital": cash0,
        "final_equity": round(final, 2),
        "total_return": final / cash0 - 1.0 if cash0 else None,
        "trades": len(records),
        "closed_trades": int(closed.shape[0]),
        "win_rate": float((closed > 0).mean()) if closed.shape[0] else None,
        "profit_factor": gains / losses if losses > 0 else None,
        "exposure_time": float(in_market.mean()) if in_market.shape[0] else 0.0,
        "avg_gross_exposure": (
            float(np.mean(gross / np.where(equity > 0, equity, np.nan)))
            if equity.shape[0] and np.any(equity > 0)
            else 0.0
        ),
        "commission": math.fsum(t.commission for t in records),
        "sharpe": None,
        "sortino": None,
        "max_drawdown": 0.0,
        "bars": int(equity.shape[0]),
    }
    if equity.shape[0] >= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            rets = np.diff(equity) / equity[:-1]
        rets = np.where(np.isfinite(rets), rets, 0.0)
        ppy = periods_per_year(timeframe)
        sharpe = float(empyrical.sharpe_ratio(rets, annualization=ppy))
        sortino = float(empyrical.sortino_ratio(rets, annualization=ppy))
        out["sharpe"] = sharpe if math.isfinite(sharpe) else None
        out["sortino"] = sortino if math.isfinite(sortino) else None
        peak = np.maximum.accumulate(equity)
        dd = 1.0 - equity / np.where(peak > 0, peak, np.nan)
        out["max_drawdown"] = float(np.nanmax(dd, initial=0.0))
    return out


def attribution_summary(
    records: Sequence[TradeRecord], open_count: int
) -> dict[str, dict[str, float]]:
    """Per strategy, over closed trades: how many it took part in, its credited P&L
    (Σ share · pnl), the trades where its credit was positive, and its mean share."""
    out: dict[str, dict[str, float]] = {}
    for t in records[: len(records) - open_count]:
        for name, share in t.shares.items():
            row = out.get(name)
            if row is None:
                row = out[name] = {"trades": 0, "pnl": 0.0, "wins": 0, "avg_share": 0.0}
            row["trades"] += 1
            row["pnl"] += share * t.pnl
            row["avg_share"] += share
            if share * t.pnl > 0:
                row["wins"] += 1
    for row in out.values():
        row["avg_share"] = row["avg_share"] / row["trades"] if row["trades"] else 0.0
        row["pnl"] = round(row["pnl"], 4)
    return dict(sorted(out.items()))


def results_build(
    *,
    config: BacktestConfig,
    books: Sequence[Book],
    fills: Sequence[FillRecord],
    trades: Sequence[TradeRecord],
    weight_history: Sequence[WeightRecord],
    initial_weights: Mapping[str, float],
    final_weights: Mapping[str, float],
    data_hash: str,
    trade_from: int | None = None,
    declined: Mapping[str, int] | None = None,
) -> BacktestResult:
    cash0 = float(config.initial_capital)
    g, equity, gross, in_market = equity_build(books=books, fills=fills, cash0=cash0)
    if trade_from is not None:  # bars before ``start`` only warmed the strategies up
        keep = g >= trade_from
        g, equity, gross, in_market = g[keep], equity[keep], gross[keep], in_market[keep]
    opened = open_records(books)
    records = [*trades, *opened]
    t0 = from_ns(int(g[0])).isoformat() if g.shape[0] else None
    history = [{"time": t0, "weights": dict(initial_weights), "reason": "initial", "rewards": {}}]
    history += [
        {"time": w.at.isoformat(), "weights": w.weights, "reason": w.reason, "rewards": w.rewards}
        for w in weight_history
    ]
    return BacktestResult(
        config=config,
        data_hash=data_hash,
        records=records,
        open_count=len(opened),
        tickers=[b.ticker for b in books],
        bar_times=[b.time for b in books],
        equity_time=g,
        equity=equity,
        metrics=metrics_compute(
            equity=equity,
            gross=gross,
            in_market=in_market,
            records=records,
            open_count=len(opened),
            cash0=cash0,
            timeframe=config.timeframe,
        ),
        attribution=attribution_summary(records, len(opened)),
        weight_history=history,
        final_weights=dict(final_weights),
        bars=int(sum(b.n for b in books)),
        extras={"declined_entries": dict(sorted((declined or {}).items()))},
    )
