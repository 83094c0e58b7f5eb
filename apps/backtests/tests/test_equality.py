"""One engine: the live services on the replay's simulated clock and ``backtest_run`` over the
same bars and news give the same signals, orders, fills, outcomes and, with learning on, the same
weight history (issue 9).

Path A is the live pipeline in-process (:func:`apps.execution.services.replay.replay_trading`:
``signal_generate`` → ``signal_execute`` → the simulated broker → ``orders_sync`` → positions and
stops, all on the database, on the replay's clock). Path B is ``backtest_run`` over the frames
``frames_load`` reads from the same database, configured from the same settings. Each path's log
is normalised to plain values (decision times, directions, strengths, each order's terms, status,
fill day and price, each round trip's P&L) and hashed; the hashes must be equal. On a mismatch the
first differing entries are shown.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.conf import settings

from apps.execution.costs import commission_parse, slippage_parse
from apps.execution.ledger import BOOKING_DECIMALS
from apps.execution.models import Trade
from apps.execution.services.context import risk_config_from_settings
from apps.execution.services.replay import REPLAY_LABEL, replay_trading
from apps.learning.services import ReplayLearning
from apps.market import calendar
from apps.market.sources.replay import visible_at_ns
from apps.strategies.models import Signal, Strategy
from backtesting.config import BacktestConfig, SizingKind, StrategySpec
from backtesting.data import from_ns
from backtesting.engine import Engine
from backtesting.loaders import frames_load
from backtesting.stages import strategies_build

Log = dict[str, list[dict[str, Any]]]


def _day(t: datetime) -> str:
    return t.astimezone(calendar.NEW_YORK).date().isoformat()


def _px(x: Decimal | float | None) -> str | None:
    return None if x is None else f"{Decimal(repr(float(x))).quantize(Decimal('0.0001'))}"


def live_log(symbols: list[str]) -> Log:
    signals = [
        {
            "ticker": s.ticker,
            "at": s.decided_at.isoformat(),
            "dir": s.direction,
            "strength": round(s.strength, 6),
        }
        for s in Signal.objects.filter(account=REPLAY_LABEL, ticker__in=symbols).order_by(
            "decided_at", "ticker"
        )
    ]
    orders = []
    for t in Trade.objects.filter(broker=REPLAY_LABEL).order_by("ticker", "timestamp", "id"):
        filled = t.status == Trade.Status.FILLED
        orders.append(
            {
                "ticker": t.ticker,
                "purpose": str(t.purpose),
                "side": str(t.side),
                "qty": int(t.qty),
                "decided": None
                if t.purpose == Trade.Purpose.STOP_LOSS
                else t.timestamp.isoformat(),
                "stop": _px(t.stop_price) if t.purpose == Trade.Purpose.STOP_LOSS else None,
                "status": "filled"
                if filled
                else "open"
                if t.status in ("accepted", "new")
                else str(t.status),
                "fill_day": _day(t.filled_at) if filled and t.filled_at else None,
                "price": _px(t.price) if filled else None,
            }
        )
    return {"signals": signals, "orders": _order_sort(orders), "outcomes": _live_outcomes()}


def _live_outcomes() -> list[dict[str, Any]]:
    """Each closed round trip as the learning stage would record it (``outcome_compute`` over
    the entry and closing fills, with execution's realised P&L)."""
    from apps.learning.outcomes import FilledOrder, outcome_compute

    out = []
    filled = Trade.objects.filter(broker=REPLAY_LABEL, status=Trade.Status.FILLED)
    for ticker in sorted(set(filled.values_list("ticker", flat=True))):
        entry = None
        for t in filled.filter(ticker=ticker).order_by("filled_at", "id"):
            fill = FilledOrder(str(t.side), t.filled_qty, t.price, t.filled_at, t.commission)
            if t.purpose == Trade.Purpose.ENTRY:
                entry = (t, fill)
                continue
            assert entry is not None
            values = outcome_compute(
                entry=entry[1], exit=fill, realized_pnl=(entry[0].pnl or 0) + (t.pnl or 0)
            )
            out.append(_outcome(ticker, _day(t.filled_at), values.realized_pnl, values.roi_pct))
            entry = None
    return sorted(out, key=lambda o: (o["ticker"], o["exit_day"]))


def _outcome(ticker: str, day: str, pnl: Decimal | float, roi_pct: float) -> dict[str, Any]:
    cents = Decimal(repr(float(pnl))).quantize(Decimal("0.01"))
    return {"ticker": ticker, "exit_day": day, "pnl": str(cents), "roi_pct": round(roi_pct, 6)}


def _order_sort(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {"entry": 0, "stop_loss": 1, "exit": 2}
    return sorted(
        orders,
        key=lambda o: (
            o["ticker"],
            o["fill_day"] or "9999",
            rank[o["purpose"]],
            o["decided"] or "",
        ),
    )


def _bar_day(book: Any, bar: int) -> str:
    # a daily bar is stamped at midnight New York: noon UTC names the same date
    return _day(from_ns(int(book.time[bar])).replace(hour=12))


def backtest_log(engine: Engine, result: Any, start_ns: int) -> Log:
    directions = {1: "long", -1: "short", 0: "flat"}
    signals = []
    decided = {}
    for book in engine.books:
        at = decided[book.ticker] = visible_at_ns(book.time, engine.cfg.timeframe)
        first = int(book.time.searchsorted(start_ns, side="left"))
        for i in range(first, book.n):
            signals.append(
                {
                    "ticker": book.ticker,
                    "at": from_ns(int(at[i])).isoformat(),
                    "dir": directions[int(book.dirs[i])],
                    "strength": round(float(book.strength[i]), 6),
                }
            )
    signals.sort(key=lambda s: (s["at"], s["ticker"]))
    books = {b.ticker: b for b in engine.books}
    trailing = engine.risk is not None and engine.risk.stop_order_type == "trailing_stop"
    exiting = {b.ticker for b in engine.books if b.pending is not None and b.pending.direction == 0}
    orders: list[dict[str, Any]] = []

    def order(ticker: str, purpose: str, side: str, qty: float, **kw: Any) -> None:
        base = {"decided": None, "stop": None, "status": "filled", "fill_day": None, "price": None}
        orders.append(
            {"ticker": ticker, "purpose": purpose, "side": side, "qty": int(qty), **base, **kw}
        )

    for t in result.trades:
        book, at = books[t["ticker"]], decided[t["ticker"]]
        side = "buy" if t["side"] == "long" else "sell"
        exit_side = "sell" if side == "buy" else "buy"
        order(
            t["ticker"],
            "entry",
            side,
            t["size"],
            decided=from_ns(int(at[t["signal_bar"]])).isoformat(),
            fill_day=_bar_day(book, t["entry_bar"]),
            price=_px(t["entry_price"]),
        )
        closed = t["status"] == "closed"
        by_stop = closed and t["exit_reason"] == "stop"
        if t["stop_price"] is not None:
            status = "filled" if by_stop else "canceled" if closed else "open"
            if not closed and t["ticker"] in exiting:
                status = "canceled"  # the exit going in cancels the stop first
            order(
                t["ticker"],
                "stop_loss",
                exit_side,
                t["size"],
                # a trailing stop's level moves: the broker holds its trail, not a price
                stop=None if trailing else _px(t["stop_price"]),
                status=status,
                fill_day=_bar_day(book, t["exit_bar"]) if by_stop else None,
                price=_px(t["exit_price"]) if by_stop else None,
            )
        if closed and not by_stop:
            order(
                t["ticker"],
                "exit",
                exit_side,
                t["size"],
                decided=from_ns(int(at[t["exit_signal_bar"]])).isoformat(),
                fill_day=_bar_day(book, t["exit_bar"]),
                price=_px(t["exit_price"]),
            )
        if not closed and t["ticker"] in exiting:
            pending = books[t["ticker"]].pending
            order(
                t["ticker"],
                "exit",
                exit_side,
                t["size"],
                decided=from_ns(int(at[pending.signal_bar])).isoformat(),
                status="open",
            )
    for book in engine.books:  # entries decided on the last bar: still working at the end
        p = book.pending
        if p is not None and p.direction != 0 and p.qty:
            order(
                book.ticker,
                "entry",
                "buy" if p.direction > 0 else "sell",
                p.qty,
                decided=from_ns(int(decided[book.ticker][p.signal_bar])).isoformat(),
                status="open",
            )
    outcomes = sorted(
        (
            _outcome(
                t["ticker"],
                _bar_day(books[t["ticker"]], t["exit_bar"]),
                t["pnl"],
                100 * t["return_pct"],
            )
            for t in result.trades
            if t["status"] == "closed"
        ),
        key=lambda o: (o["ticker"], o["exit_day"]),
    )
    return {"signals": signals, "orders": _order_sort(orders), "outcomes": outcomes}


def config_from_live(symbols: list[str], start: date, end: date) -> BacktestConfig:
    """The backtest the live settings describe: the active strategies and their weights, the
    ensemble thresholds, the risk settings, the simulated broker's costs, the news latency."""
    rows = list(Strategy.objects.filter(active=True).order_by("name"))
    return BacktestConfig(
        symbols=tuple(symbols),
        strategies=tuple(StrategySpec(s.name, dict(s.params or {})) for s in rows),
        initial_weights={s.name: float(s.weight) for s in rows},
        start=datetime.combine(start, time.min, UTC),
        end=datetime.combine(end, time.max, UTC),
        timeframe=settings.SIGNALS_TIMEFRAME,
        initial_capital=100_000.0,
        commission=commission_parse(settings.SIM_COMMISSION),
        slippage=slippage_parse(settings.SIM_SLIPPAGE),
        long_threshold=settings.ENSEMBLE_LONG_THRESHOLD,
        short_threshold=settings.ENSEMBLE_SHORT_THRESHOLD,
        allow_short=settings.RISK_ALLOW_SHORT,
        sizing=SizingKind.RISK,
        risk_params=asdict(risk_config_from_settings()),
        news_latency_s=settings.NEWS_VISIBLE_AFTER_S,
        booking_decimals=BOOKING_DECIMALS,
    )


def _digest(log: Log) -> str:
    return hashlib.sha256(json.dumps(log, sort_keys=True).encode()).hexdigest()


def _first_differences(a: list[Any], b: list[Any], n: int = 3) -> list[tuple[Any, Any]]:
    out = [(x, y) for x, y in zip(a, b, strict=False) if x != y][:n]
    if len(a) != len(b):
        out.append((f"{len(a)} entries", f"{len(b)} entries"))
    return out


# The data sets both equality tests run on: bars only; five tickers with the bundled news;
# trailing stops (JPM and BAC are stopped out at the same open, 2016-05-19, so one learning cycle
# sees two outcomes of one instant).
DATA_SETS = [
    (["AAPL", "MSFT", "NVDA"], date(2017, 1, 3), date(2017, 6, 30), False, "stop"),
    (["AAPL", "MSFT", "AMZN", "GOOG", "FB"], date(2015, 10, 1), date(2015, 12, 31), True, "stop"),
    (["JPM", "BAC", "INTC"], date(2016, 1, 4), date(2016, 6, 30), False, "trailing_stop"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("symbols", "start", "end", "news", "stop_type"), DATA_SETS)
def test_live_replay_and_backtest_run_agree(
    redis_conn, settings, symbols, start, end, news, stop_type
):
    settings.RISK_STOP_ORDER_TYPE = stop_type
    replay_trading(symbols=symbols, start=start, end=end, with_news=news)
    live = live_log(symbols)
    cfg = config_from_live(symbols, start, end)
    frames, _ = frames_load(cfg)
    engine = Engine(cfg, frames, strategies_build(cfg.strategies))
    result = engine.run()
    back = backtest_log(engine, result, int(np.datetime64(start, "ns").astype(np.int64)))
    assert live["orders"], "a data set with no trades proves little"
    for part in ("signals", "orders", "outcomes"):
        assert _digest({part: live[part]}) == _digest({part: back[part]}), (
            part,
            _first_differences(live[part], back[part]),
        )


@pytest.mark.django_db
def test_news_after_the_decision_changes_no_decision_on_either_path(redis_conn):
    """An article published after a decision (or published before it but not yet visible: the
    latency) changes nothing at that decision, live or in the backtest; it does change later ones
    (so the test would see a leak)."""
    from apps.market.services import dataset_load
    from apps.news.models import Article, ArticleSentiment, NewsSource
    from apps.strategies.seed import strategies_seed
    from apps.strategies.services import signal_generate

    dataset_load(name="demo")
    strategies_seed()
    day = date(2016, 3, 1)
    at = calendar.session_bounds(day)[1]
    cfg = config_from_live(["AAPL"], date(2016, 1, 4), date(2016, 3, 31))

    def decisions() -> tuple[Any, np.ndarray, np.ndarray]:
        frames, _ = frames_load(cfg, score_missing=False)
        engine = Engine(cfg, frames, strategies_build(cfg.strategies))
        engine.run()
        (book,) = engine.books
        bar = int(np.flatnonzero(visible_at_ns(book.time, cfg.timeframe) == _ns(at))[0])
        return bar, book.dirs.copy(), book.strength.copy()

    live_before = signal_generate(ticker="AAPL", at=at, publish=False, account="before")
    bar, dirs_before, strength_before = decisions()

    source = NewsSource.objects.create(name="late", kind="replay")
    late = [at + timedelta(seconds=1), at - timedelta(seconds=settings.NEWS_VISIBLE_AFTER_S / 2)]
    for k, published in enumerate(late):
        art = Article.objects.create(
            source=source,
            url=f"https://example.com/late/{k}",
            title="Apple collapses",
            published_at=published,
            fetched_at=published,
            content_hash=f"late{k}",
            tickers=["AAPL"],
        )
        for j in range(20):  # a wall of confident bad news
            ArticleSentiment.objects.create(
                article=art, ticker="AAPL", score=-1.0, confidence=1.0, model_used=f"m{j}"
            )
    live_after = signal_generate(ticker="AAPL", at=at, publish=False, account="after")
    bar_after, dirs_after, strength_after = decisions()

    assert live_before is not None and live_after is not None
    b, a = live_before.signal, live_after.signal
    assert (b.direction, b.strength, b.strategy_sources, b.sentiment_score) == (
        a.direction,
        a.strength,
        a.strategy_sources,
        a.sentiment_score,
    )
    assert bar_after == bar
    np.testing.assert_array_equal(dirs_after[: bar + 1], dirs_before[: bar + 1])
    np.testing.assert_array_equal(strength_after[: bar + 1], strength_before[: bar + 1])
    # the next decision sees them, on both paths
    nxt = calendar.session_bounds(date(2016, 3, 2))[1]
    seen = signal_generate(ticker="AAPL", at=nxt, publish=False, account="after")
    assert seen is not None and seen.signal.sentiment_score is not None
    assert seen.signal.sentiment_score < -0.5
    assert strength_after[bar + 1] != strength_before[bar + 1]


def _ns(t: datetime) -> int:
    return int(np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ns").astype(np.int64))


# ---- learning: the weight history ---------------------------------------------------------------
def learning_config_for_test() -> Any:
    """The live learning maths with a low bar, so that a few months of trades move weights."""
    from apps.learning.engine import LearningConfig
    from apps.learning.selectors import learning_config_get

    live = learning_config_get()
    return LearningConfig(
        reward=live.reward,
        update=replace(live.update, min_trades=2),
        min_interval_s=live.min_interval_s,
    )


def _w8(x: Decimal | float) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal("0.00000001")))


def live_weight_log() -> list[dict[str, Any]]:
    """The replay account's weights after each cycle that moved one (its history rows, grouped by
    cycle time, carried forward from the live weights it started from)."""
    from apps.strategies.models import StrategyWeightHistory

    current = {s.name: s.weight for s in Strategy.objects.filter(active=True)}
    out: list[dict[str, Any]] = []
    rows = StrategyWeightHistory.objects.filter(account=REPLAY_LABEL).select_related("strategy")
    for row in rows.order_by("timestamp", "id"):
        current[row.strategy.name] = row.new_weight
        entry = {"day": _day(row.timestamp), "weights": {n: _w8(w) for n, w in current.items()}}
        if out and out[-1]["day"] == entry["day"]:
            out[-1] = entry
        else:
            out.append(entry)
    return out


def backtest_weight_log(engine: Engine) -> list[dict[str, Any]]:
    return [
        {
            "day": _day(w.at.replace(hour=12)),
            "weights": {n: _w8(x) for n, x in w.weights.items()},
        }
        for w in engine.weight_history
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("symbols", "start", "end", "news", "stop_type"), DATA_SETS)
def test_learning_replay_and_backtest_run_agree_on_weight_history(
    redis_conn, settings, symbols, start, end, news, stop_type
):
    settings.RISK_STOP_ORDER_TYPE = stop_type
    config = learning_config_for_test()
    report = replay_trading(
        symbols=symbols,
        start=start,
        end=end,
        with_news=news,
        learner=ReplayLearning(account=REPLAY_LABEL, broker=REPLAY_LABEL, config=config),
    )
    live = live_log(symbols)
    live["weights"] = live_weight_log()
    cfg = replace(
        config_from_live(symbols, start, end), learning=True, learning_params=config.to_dict()
    )
    frames, _ = frames_load(cfg)
    engine = Engine(cfg, frames, strategies_build(cfg.strategies))
    result = engine.run()
    back = backtest_log(engine, result, int(np.datetime64(start, "ns").astype(np.int64)))
    back["weights"] = backtest_weight_log(engine)
    assert report.outcomes and report.cycles.get("applied"), (report.outcomes, report.cycles)
    assert len(live["weights"]) >= 2, "learning must actually move the weights"
    for part in ("weights", "outcomes", "signals", "orders"):  # causes first
        assert _digest({part: live[part]}) == _digest({part: back[part]}), (
            part,
            _first_differences(live[part], back[part]),
        )


@pytest.mark.django_db
def test_a_learning_replay_leaves_the_live_learning_state_alone(redis_conn):
    """The replay learns under its own account: live weights, weight history, outcomes, cycles and
    learning state are untouched, and a second replay clears only its own learning rows."""
    from apps.learning.models import LearningAdjustment, LearningCycle, LearningState, TradeOutcome
    from apps.learning.services import weights_reset
    from apps.strategies.models import LIVE_ACCOUNT, StrategyWeightHistory
    from apps.strategies.seed import strategies_seed

    strategies_seed()
    weights_reset(strategy="momentum", to=Decimal("0.4"), reason="live operator")

    def live_state() -> Any:
        return (
            sorted(Strategy.objects.values_list("name", "weight")),
            sorted(
                StrategyWeightHistory.objects.filter(account=LIVE_ACCOUNT).values_list(
                    "id", "new_weight"
                )
            ),
            sorted(LearningCycle.objects.filter(account=LIVE_ACCOUNT).values_list("cycle", "kind")),
            LearningAdjustment.objects.filter(account=LIVE_ACCOUNT).count(),
            TradeOutcome.objects.filter(account=LIVE_ACCOUNT).count(),
            list(
                LearningState.objects.filter(account=LIVE_ACCOUNT).values_list(
                    "last_outcome_id", "last_cycle_at"
                )
            ),
        )

    before = live_state()
    args = {
        "symbols": ["AAPL", "MSFT", "NVDA"],
        "start": date(2017, 1, 3),
        "end": date(2017, 4, 28),
        "learner": ReplayLearning(
            account=REPLAY_LABEL, broker=REPLAY_LABEL, config=learning_config_for_test()
        ),
    }
    first = replay_trading(**args)
    assert first.outcomes and first.cycles.get("applied"), (first.outcomes, first.cycles)
    moved = StrategyWeightHistory.objects.filter(account=REPLAY_LABEL)
    assert moved.exists()
    assert live_state() == before
    # the replay decided with its own weights, which started from the live ones (momentum 0.4)
    assert TradeOutcome.objects.filter(account=REPLAY_LABEL).count() == first.outcomes
    second = replay_trading(**args)
    assert live_state() == before
    assert TradeOutcome.objects.filter(account=REPLAY_LABEL).count() == second.outcomes
    assert second.outcomes == first.outcomes
    assert second.cycles == first.cycles
