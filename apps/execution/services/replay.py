"""The trading replay: stored daily bars -> strategies -> ensemble -> risk -> simulated broker.

Runs every stage in-process, day by day, through the same services the workers call
(``signal_generate``, ``signal_execute``, ``orders_sync``, ``reconcile``), on an account of its own:
broker label ``replay``, ``TradingControl`` row 2, a simulated broker whose state is kept in Redis
under ``simbroker:replay``. Each simulated day:

1. at the session open, the day's bar reaches the broker: yesterday's orders fill (market at the
   open, stops/limits on the bar's range), fills move positions, stops are placed for new ones;
   With a ``learner`` (the learning stage's :class:`~apps.learning.services.ReplayLearning`), the
   round trips closed that morning become outcomes of the replay's account and one learning cycle
   may run (the shared cadence rule, on the replay's clock); decisions use the replay's weights;
2. at the session close, positions are marked, and for every symbol a signal is decided at the
   close (bars and news visible then) and handed to risk and execution; its order fills tomorrow.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from typing import Protocol

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum

from apps.core.redis_client import redis_client
from apps.execution.brokers.simulated import RedisStore, SimulatedBroker
from apps.execution.costs import CommissionModel, SlippageModel, commission_parse, slippage_parse
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl
from apps.execution.services.context import ExecutionContext, risk_config_from_settings
from apps.execution.services.control import trading_control
from apps.execution.services.decide import signal_execute, signal_view_from_row
from apps.execution.services.orders import orders_sync
from apps.execution.services.positions import positions_mark
from apps.execution.services.reconcile import ReconcileReport, reconcile
from apps.execution.services.stops import stops_ensure
from apps.market import calendar
from apps.market.contracts import Bar
from apps.market.models import MarketBar
from apps.market.selectors import bars_iter
from apps.market.services import dataset_load
from apps.news.models import Article
from apps.sentiment.pipeline import articles_score
from apps.sentiment.selectors import scorer_get
from apps.sentiment.services import article_raw, article_sentiments_save
from apps.strategies.models import Signal
from apps.strategies.seed import strategies_seed
from apps.strategies.services import signal_generate

log = logging.getLogger(__name__)

REPLAY_LABEL = "replay"
REPLAY_CONTROL_PK = 2
DAILY = "1Day"


class ReplayLearner(Protocol):
    """The learning stage's part in a replay (it sits above execution, so it is handed in)."""

    def reset(self) -> None:
        """Clear the replay account's learning rows."""

    def after_fills(self, now: datetime) -> tuple[int, str | None]:
        """Record the round trips closed by fills so far; maybe run a cycle at ``now``. Returns
        the outcomes recorded and the cycle's outcome (None when none ran)."""


@dataclass
class ReplayReport:
    days: int = 0
    signals: int = 0
    signals_by_direction: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    fills: int = 0
    closed_trades: int = 0
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    start_equity: Decimal = Decimal(0)
    end_equity: Decimal = Decimal(0)
    open_positions: list[str] = field(default_factory=list)
    trading_state: str = ""
    reconcile: ReconcileReport | None = None
    outcomes: int = 0
    cycles: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def bars_ensure(*, symbols: list[str], start: datetime, end: datetime) -> dict[str, int]:
    """Make sure daily bars of ``symbols`` exist around the range; load them if not.

    Loads the project's own data set (``manage.py load_bars``, data/bars) if any symbol lacks bars
    in the range. Returns bars loaded per symbol.
    """

    def missing() -> list[str]:
        return [
            s
            for s in symbols
            if not MarketBar.objects.filter(
                symbol=s, timeframe=DAILY, time__gte=start, time__lte=end
            ).exists()
        ]

    loaded: dict[str, int] = {}
    if missing():
        for f in dataset_load(name="demo"):
            loaded[f.symbol] = loaded.get(f.symbol, 0) + f.rows
    for s in missing():
        log.warning("replay: no daily bars for %s in the range (backfill_bars or load_bars)", s)
    return loaded


def news_ensure(*, symbols: list[str], start: datetime, end: datetime) -> int:
    """Load the bundled news (``load_news --dataset stocknet``, not published) and score the
    articles in the range that name a replayed symbol and have no sentiment yet, with the current
    tier-1 scorer (the trained offline model, else the lexicon fallback; no tier 2). Returns how
    many articles were scored. The replay then sees them point-in-time like live sentiment.
    """
    call_command("load_news", "--dataset", "stocknet", "--no-publish", stdout=StringIO())
    wanted = set(symbols)
    todo = [
        a
        for a in Article.objects.filter(
            published_at__gte=start, published_at__lte=end, sentiments__isnull=True
        ).select_related("source")
        if wanted & set(a.tickers or ())
    ]
    scorer = scorer_get().scorer
    for i in range(0, len(todo), 256):
        batch = [article_raw(a) for a in todo[i : i + 256]]
        for scored in articles_score(batch, scorer=scorer, tier2=None):
            article_sentiments_save(scored=scored)
    log.info("replay: scored %d bundled news item(s) with %s", len(todo), scorer.model_used)
    return len(todo)


def replay_reset(
    *, broker: SimulatedBroker, symbols: list[str], start: datetime, end: datetime, cash: Decimal
) -> None:
    """Forget a previous replay: its own trades, positions, signals and broker state (rows of
    other accounts, live ones included, are never touched). Its learning rows are the learner's
    to clear (first: outcomes refer to trades)."""
    trades = Trade.objects.filter(broker=REPLAY_LABEL)
    Position.objects.filter(broker=REPLAY_LABEL).delete()
    TradeUpdate.objects.filter(trade__in=trades).delete()
    trades.delete()
    Signal.objects.filter(account=REPLAY_LABEL).delete()
    broker.reset(cash=cash)
    control = trading_control(pk=REPLAY_CONTROL_PK)
    control.label = REPLAY_LABEL
    control.state, control.reason = TradingControl.State.ACTIVE, "replay start"
    control.peak_equity = control.day_start_equity = cash
    control.day = None
    control.save()


def replay_trading(
    *,
    symbols: list[str],
    start: date,
    end: date,
    cash: Decimal = Decimal(100_000),
    fresh: bool = True,
    publish: bool = False,
    with_news: bool = False,
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    progress: Callable[[int, int, date, ReplayReport], None] | None = None,
    learner: ReplayLearner | None = None,
) -> ReplayReport:
    start_dt = datetime.combine(start, datetime.min.time(), UTC)
    end_dt = datetime.combine(end, datetime.max.time(), UTC)
    bars_ensure(symbols=symbols, start=start_dt, end=end_dt)
    if with_news:
        news_ensure(symbols=symbols, start=start_dt, end=end_dt)
    strategies_seed()
    broker = SimulatedBroker(
        store=RedisStore(redis_client(), key=f"simbroker:{REPLAY_LABEL}"),
        initial_cash=cash,
        commission=commission or commission_parse(settings.SIM_COMMISSION),
        slippage=slippage or slippage_parse(settings.SIM_SLIPPAGE),
        name=REPLAY_LABEL,
    )
    sim_now = [start_dt]
    ctx = ExecutionContext(
        broker=broker,
        label=REPLAY_LABEL,
        signals_account=REPLAY_LABEL,
        control_pk=REPLAY_CONTROL_PK,
        publish=publish,
        risk=risk_config_from_settings(),
        clock=lambda: sim_now[0],
    )
    if fresh:
        if learner is not None:
            learner.reset()
        replay_reset(broker=broker, symbols=symbols, start=start_dt, end=end_dt, cash=cash)
    report = ReplayReport(start_equity=broker.account().equity)

    by_day: dict[date, dict[str, Bar]] = defaultdict(dict)
    for s in symbols:
        for bar in bars_iter(symbol=s, timeframe=DAILY, start=start_dt, end=end_dt):
            by_day[bar.time.astimezone(calendar.NEW_YORK).date()][s] = bar
    days = sorted(by_day)
    for i, day in enumerate(days):
        try:
            open_t, close_t = calendar.session_bounds(day)
        except ValueError:
            log.warning("replay: %s is not a session; its bars are skipped", day)
            continue
        bars = by_day[day]
        sim_now[0] = open_t
        for s, bar in sorted(bars.items()):
            broker.on_bar(
                s,
                time=open_t,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume,
            )
        orders_sync(ctx)
        if learner is not None:
            recorded, cycle = learner.after_fills(open_t)
            report.outcomes += recorded
            if cycle:
                report.cycles[cycle] += 1
        # Stops normally follow a fill's commit (on_commit); ensure them here too, so the replay
        # also protects positions when it runs inside an outer transaction (tests).
        for ticker in Position.objects.filter(broker=REPLAY_LABEL).values_list("ticker", flat=True):
            stops_ensure(ctx, ticker=ticker)
        sim_now[0] = close_t
        positions_mark(
            ctx,
            prices={s: Decimal(str(b.close)) for s, b in bars.items()},
        )
        for s in sorted(bars):
            outcome = signal_generate(ticker=s, at=close_t, publish=publish, account=REPLAY_LABEL)
            if outcome is None:
                continue
            report.signals += 1
            d = outcome.signal.direction
            report.signals_by_direction[d] = report.signals_by_direction.get(d, 0) + 1
            signal_execute(ctx, signal=signal_view_from_row(outcome.signal))
        report.days += 1
        if progress is not None:
            progress(i + 1, len(days), day, report)
    report.reconcile = reconcile(ctx)
    _summarise(ctx, broker, report)
    return report


def _summarise(ctx: ExecutionContext, broker: SimulatedBroker, report: ReplayReport) -> None:
    trades = Trade.objects.filter(broker=ctx.label)
    report.orders = trades.count()
    report.fills = trades.filter(filled_qty__gt=0).count()
    agg = trades.aggregate(pnl=Sum("pnl"), fees=Sum("commission"))
    report.realized_pnl = agg["pnl"] or Decimal(0)
    report.commission = agg["fees"] or Decimal(0)
    report.closed_trades = (
        trades.filter(
            purpose__in=[Trade.Purpose.EXIT, Trade.Purpose.STOP_LOSS], filled_qty__gt=0
        ).aggregate(n=Count("id"))["n"]
        or 0
    )
    open_pos = Position.objects.filter(broker=ctx.label).exclude(qty=0)
    report.unrealized_pnl = sum((p.unrealized_pnl for p in open_pos), Decimal(0))
    report.open_positions = [f"{p.ticker} {p.qty:g} @ {p.avg_entry:.2f}" for p in open_pos]
    report.end_equity = broker.account().equity
    report.trading_state = trading_control(pk=ctx.control_pk).state
