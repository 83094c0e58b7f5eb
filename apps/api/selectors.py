"""Reads behind the dashboard: each returns plain values or querysets for the API's serializers.

They read the tables the stages own; no business rule lives here beyond the aggregation a view
needs (figures over snapshots, the "why did we trade" assembly, the sentiment/close alignment).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Avg, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from apps.backtests.models import BacktestRun
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl
from apps.learning.models import (
    LearningAdjustment,
    LearningState,
    PortfolioSnapshot,
    StrategyMetric,
    TradeOutcome,
)
from apps.learning.stats import sharpe_daily
from apps.market.models import MarketBar
from apps.news.models import Article, ArticleSentiment
from apps.strategies.models import LIVE_ACCOUNT, Strategy, StrategyWeightHistory

# How far back the trade detail looks for the articles a decision could see (the news strategy
# ignores items older than its max_age_hours, 96 h by default).
WHY_ARTICLES_LOOKBACK = timedelta(hours=96)
WHY_ARTICLES_LIMIT = 50


def broker_label() -> str:
    return str(settings.BROKER_KIND)


# --- portfolio ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioSummary:
    as_of: datetime | None
    value: Decimal
    cash: Decimal
    exposure: Decimal
    daily_pnl: Decimal
    drawdown: float
    roi: float
    sharpe: float | None
    win_rate: float | None
    trades_closed: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    initial_cash: Decimal


def _daily_values(broker: str) -> list[Decimal]:
    """The last snapshot value of each (UTC) day, oldest first (for the Sharpe ratio)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT ON ((time AT TIME ZONE 'UTC')::date) value FROM portfolio_snapshots "
            "WHERE broker = %s ORDER BY (time AT TIME ZONE 'UTC')::date, time DESC",
            [broker],
        )
        return [row[0] for row in cur.fetchall()]


def portfolio_summary(*, broker: str | None = None) -> PortfolioSummary:
    broker = broker or broker_label()
    initial = Decimal(str(settings.PORTFOLIO_INITIAL_CASH))
    snap = PortfolioSnapshot.objects.filter(broker=broker).order_by("-time").first()
    values = _daily_values(broker)
    returns = [float(b / a - 1) for a, b in pairwise(values) if a and a > 0]
    outcomes = TradeOutcome.objects.filter(account=LIVE_ACCOUNT).aggregate(
        n=Coalesce(Sum(1), 0),
        wins=Coalesce(Sum(1, filter=Q(was_profitable=True)), 0),
        pnl=Sum("realized_pnl"),
    )
    n = int(outcomes["n"] or 0)
    unreal = (
        Position.objects.filter(broker=broker)
        .exclude(qty=0)
        .aggregate(u=Sum("unrealized_pnl"))["u"]
    )
    value = snap.value if snap else initial
    return PortfolioSummary(
        as_of=snap.time if snap else None,
        value=value,
        cash=snap.cash if snap else initial,
        exposure=snap.exposure if snap else Decimal(0),
        daily_pnl=snap.daily_pnl if snap else Decimal(0),
        drawdown=snap.drawdown if snap else 0.0,
        roi=float(value / initial - 1) if initial else 0.0,
        sharpe=sharpe_daily(returns),
        win_rate=(int(outcomes["wins"] or 0) / n) if n else None,
        trades_closed=n,
        realized_pnl=outcomes["pnl"] or Decimal(0),
        unrealized_pnl=unreal or Decimal(0),
        initial_cash=initial,
    )


def equity_curve(
    *, broker: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[PortfolioSnapshot]:
    qs = PortfolioSnapshot.objects.filter(broker=broker or broker_label()).order_by("time")
    if since:
        qs = qs.filter(time__gte=since)
    if until:
        qs = qs.filter(time__lte=until)
    return qs


def positions_open(*, broker: str | None = None) -> QuerySet[Position]:
    return (
        Position.objects.filter(broker=broker or broker_label()).exclude(qty=0).order_by("ticker")
    )


# --- trades -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeFilters:
    ticker: str = ""
    strategy: str = ""
    side: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None
    profitable: bool | None = None


def trades_list(*, filters: TradeFilters) -> QuerySet[Trade]:
    qs = Trade.objects.select_related("outcome")
    if filters.ticker:
        qs = qs.filter(ticker=filters.ticker.upper())
    if filters.strategy:
        qs = qs.filter(strategy=filters.strategy)
    if filters.side:
        qs = qs.filter(side=filters.side)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.since:
        qs = qs.filter(timestamp__gte=filters.since)
    if filters.until:
        qs = qs.filter(timestamp__lte=filters.until)
    if filters.profitable is not None:
        qs = qs.filter(outcome__was_profitable=filters.profitable)
    return qs


@dataclass(frozen=True)
class TradeWhy:
    trade: Trade
    signal: Any | None
    contributions: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    orders: list[Trade]
    updates: list[TradeUpdate]
    outcome: TradeOutcome | None


def trade_why(*, trade_id: int) -> TradeWhy:
    """Everything behind one trade: its signal and each strategy's score and weight then, the
    scored articles visible at the decision, the orders and fills, and the outcome."""
    trade = Trade.objects.select_related("signal").get(pk=trade_id)
    outcome = (
        TradeOutcome.objects.filter(Q(trade=trade) | Q(exit_trade=trade))
        .select_related("trade", "exit_trade")
        .first()
    )
    entry = outcome.trade if outcome else trade
    signal = entry.signal or trade.signal
    decided = signal.decided_at if signal else entry.timestamp
    articles: list[dict[str, Any]] = []
    visible = Coalesce(F("article__published_at"), F("article__fetched_at"))
    for s in (
        ArticleSentiment.objects.filter(ticker=entry.ticker)
        .annotate(visible=visible)
        .filter(visible__lte=decided, visible__gte=decided - WHY_ARTICLES_LOOKBACK)
        .select_related("article__source")
        .order_by("-visible", "-id")[:WHY_ARTICLES_LIMIT]
    ):
        articles.append(
            {
                "article_id": s.article_id,
                "title": s.article.title,
                "url": s.article.url,
                "source": s.article.source.name,
                "published_at": s.visible,
                "score": s.score,
                "confidence": s.confidence,
                "tier": s.tier,
                "model": s.model_used,
            }
        )
    orders = [entry]
    if outcome and outcome.exit_trade and outcome.exit_trade.pk != entry.pk:
        orders.append(outcome.exit_trade)
    elif trade.pk != entry.pk:
        orders.append(trade)
    updates = list(TradeUpdate.objects.filter(trade__in=orders).order_by("at", "id"))
    contributions = list(signal.strategy_sources or []) if signal else []
    return TradeWhy(
        trade=trade,
        signal=signal,
        contributions=contributions,
        articles=articles,
        orders=orders,
        updates=updates,
        outcome=outcome,
    )


# --- strategies ---------------------------------------------------------------------------------


def strategies_current() -> QuerySet[Strategy]:
    latest = StrategyMetric.objects.order_by("-time")
    return Strategy.objects.order_by("name").prefetch_related(
        Prefetch("metrics", queryset=latest[:0], to_attr="_none")
    )


def strategy_latest_metrics() -> dict[int, StrategyMetric]:
    rows = StrategyMetric.objects.order_by("strategy_id", "-time").distinct("strategy_id")
    return {m.strategy_id: m for m in rows}


def strategy_metrics(
    *, strategy: str = "", since: datetime | None = None
) -> QuerySet[StrategyMetric]:
    qs = StrategyMetric.objects.select_related("strategy")
    if strategy:
        qs = qs.filter(strategy__name=strategy)
    if since:
        qs = qs.filter(time__gte=since)
    return qs


def weight_history(*, strategy: str = "") -> QuerySet[StrategyWeightHistory]:
    qs = StrategyWeightHistory.objects.filter(account=LIVE_ACCOUNT).select_related("strategy")
    return qs.filter(strategy__name=strategy) if strategy else qs


def learning_adjustments(*, strategy: str = "") -> QuerySet[LearningAdjustment]:
    qs = LearningAdjustment.objects.filter(account=LIVE_ACCOUNT).select_related("strategy")
    return qs.filter(strategy__name=strategy) if strategy else qs


def learning_state() -> LearningState:
    state, _ = LearningState.objects.get_or_create(account=LIVE_ACCOUNT)
    return state


# --- news and sentiment -------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleFilters:
    ticker: str = ""
    source: str = ""
    since: datetime | None = None
    until: datetime | None = None


def articles_list(*, filters: ArticleFilters) -> QuerySet[Article]:
    qs = Article.objects.select_related("source")
    if filters.ticker:
        qs = qs.filter(sentiments__ticker=filters.ticker.upper()).distinct()
    if filters.source:
        qs = qs.filter(source__name=filters.source)
    if filters.since:
        qs = qs.filter(fetched_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(fetched_at__lte=filters.until)
    return qs.prefetch_related(
        Prefetch("sentiments", queryset=ArticleSentiment.objects.order_by("ticker", "model_used"))
    )


@dataclass(frozen=True)
class SentimentDay:
    day: date
    sentiment: float | None
    articles: int
    close: Decimal | None


@dataclass(frozen=True)
class SentimentSeries:
    ticker: str
    days: list[SentimentDay] = field(default_factory=list)
    correlation: float | None = None  # Pearson, daily sentiment vs next-day close-to-close return
    correlation_same_day: float | None = None  # Pearson, sentiment vs same-day return
    pairs: int = 0


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    r = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def sentiment_series(
    *, ticker: str, since: date | None = None, until: date | None = None
) -> SentimentSeries:
    """Per day: the confidence-weighted mean sentiment of the ticker's articles and the day's
    close; the correlation between a day's sentiment and the next day's return, computed here."""
    ticker = ticker.upper()
    sent_qs = ArticleSentiment.objects.filter(ticker=ticker).annotate(
        day=TruncDate(Coalesce(F("article__published_at"), F("article__fetched_at")))
    )
    bars_qs = MarketBar.objects.filter(symbol=ticker, timeframe="1Day")
    if since:
        sent_qs = sent_qs.filter(day__gte=since)
        bars_qs = bars_qs.filter(time__date__gte=since)
    if until:
        sent_qs = sent_qs.filter(day__lte=until)
        bars_qs = bars_qs.filter(time__date__lte=until)
    weighted: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in sent_qs.values("day").annotate(
        ws=Sum(F("score") * F("confidence")), w=Sum("confidence"), n=Sum(1), mean=Avg("score")
    ):
        acc = weighted[row["day"]]
        acc[0] = float(row["ws"] or 0.0)
        acc[1] = float(row["w"] or 0.0)
        acc[2] = float(row["n"] or 0)
        if acc[1] == 0:
            acc[0], acc[1] = float(row["mean"] or 0.0), 1.0
    closes = {b.time.date(): b.close for b in bars_qs.only("time", "close").order_by("time")}
    days = sorted(set(weighted) | set(closes))
    out = [
        SentimentDay(
            day=d,
            sentiment=(weighted[d][0] / weighted[d][1]) if d in weighted else None,
            articles=int(weighted[d][2]) if d in weighted else 0,
            close=closes.get(d),
        )
        for d in days
    ]
    trading = [d for d in days if d in closes]
    next_x: list[float] = []
    next_y: list[float] = []
    same_x: list[float] = []
    same_y: list[float] = []
    for prev, cur, nxt in zip(trading, trading[1:], trading[2:], strict=False):
        if cur in weighted and closes[cur] and closes[prev]:
            s = weighted[cur][0] / weighted[cur][1]
            same_x.append(s)
            same_y.append(float(closes[cur] / closes[prev] - 1))
            next_x.append(s)
            next_y.append(float(closes[nxt] / closes[cur] - 1))
    return SentimentSeries(
        ticker=ticker,
        days=out,
        correlation=_pearson(next_x, next_y),
        correlation_same_day=_pearson(same_x, same_y),
        pairs=len(next_x),
    )


# --- backtests ----------------------------------------------------------------------------------


def backtests_list() -> QuerySet[BacktestRun]:
    return BacktestRun.objects.defer("trades", "equity_curve", "weight_history", "attribution")


def backtests_compare(*, run_ids: list[int]) -> dict[str, Any]:
    """Equity curves of N runs aligned on the union of their timestamps (each carried forward)."""
    runs = {r.pk: r for r in BacktestRun.objects.filter(pk__in=run_ids)}
    ordered = [runs[i] for i in run_ids if i in runs]
    curves: dict[int, dict[str, float]] = {}
    for run in ordered:
        points: dict[str, float] = {}
        for p in run.equity_curve or []:
            if isinstance(p, dict):
                t, v = p.get("time") or p.get("t"), p.get("value") or p.get("equity") or p.get("v")
            else:
                t, v = p[0], p[1]
            if t is not None and v is not None:
                points[str(t)] = float(v)
        curves[run.pk] = points
    times = sorted({t for c in curves.values() for t in c})
    last: dict[int, float | None] = {r.pk: None for r in ordered}
    rows = []
    for t in times:
        for r in ordered:
            if t in curves[r.pk]:
                last[r.pk] = curves[r.pk][t]
        rows.append({"time": t, "values": [last[r.pk] for r in ordered]})
    return {
        "runs": [
            {"id": r.pk, "name": r.name, "status": r.status, "metrics": r.metrics} for r in ordered
        ],
        "missing": [i for i in run_ids if i not in runs],
        "points": rows,
    }


# --- control ------------------------------------------------------------------------------------


def trading_control_get() -> TradingControl:
    control, _ = TradingControl.objects.get_or_create(pk=1, defaults={"label": "live"})
    return control
