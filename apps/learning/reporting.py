"""Periodic reports of the learning stage: per-strategy metrics and portfolio snapshots."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max

from apps.execution.models import Position, Trade
from apps.execution.services import broker_default
from apps.learning import metrics
from apps.learning.models import PortfolioSnapshot, StrategyMetric, TradeOutcome
from apps.learning.stats import (
    LedgerFill,
    MarkedHolding,
    OutcomeRow,
    PortfolioFigures,
    drawdown_compute,
    portfolio_from_ledger,
    strategy_stats,
)
from apps.market.clock import market_clock
from apps.strategies.models import LIVE_ACCOUNT, Strategy

log = logging.getLogger(__name__)


def strategy_metrics_record(*, now: datetime | None = None) -> list[StrategyMetric]:
    """One ``StrategyMetric`` row per active strategy at ``now`` (to the minute; re-running within
    the minute updates the same rows)."""
    at = (now or market_clock().now()).replace(second=0, microsecond=0)
    rows = [
        OutcomeRow(
            closed_at=closed_at,
            roi=roi_pct / 100.0,
            pnl=pnl,
            shares={str(k): float(v) for k, v in (attribution or {}).items()},
        )
        for closed_at, roi_pct, pnl, attribution in TradeOutcome.objects.filter(
            account=LIVE_ACCOUNT
        )
        .order_by("closed_at", "id")
        .values_list("closed_at", "roi_pct", "realized_pnl", "attribution")
    ]
    out = []
    for strategy in Strategy.objects.filter(active=True).order_by("name"):
        stats = strategy_stats(rows=rows, strategy=strategy.name)
        row, _ = StrategyMetric.objects.update_or_create(
            strategy=strategy,
            time=at,
            defaults={
                "trades": stats.trades,
                "win_rate": stats.win_rate,
                "pnl": stats.pnl,
                "sharpe": stats.sharpe,
                "weight": strategy.weight,
            },
        )
        metrics.WEIGHT.labels(strategy.name).set(float(strategy.weight))
        out.append(row)
    return out


def _figures_from_broker(kind: str) -> PortfolioFigures:
    # The broker the bot trades on (the simulated one keeps its account in Redis).
    broker = broker_default()
    account = broker.account()
    exposure = Decimal(0)
    for p in broker.positions():
        if p.market_value is not None:
            exposure += abs(p.market_value)
        else:
            exposure += abs(p.qty * (p.current_price or p.avg_entry_price))
    return PortfolioFigures(value=account.equity, cash=account.cash, exposure=exposure)


def _figures_from_db(kind: str) -> PortfolioFigures:
    fills = [
        LedgerFill(side=side, qty=qty, price=price, commission=commission)
        for side, qty, price, commission in Trade.objects.filter(
            broker=kind, filled_qty__gt=0, price__isnull=False
        ).values_list("side", "filled_qty", "price", "commission")
    ]
    holdings = [
        MarkedHolding(qty=qty, mark=last if last is not None else entry)
        for qty, last, entry in Position.objects.filter(broker=kind)
        .exclude(qty=0)
        .values_list("qty", "last_price", "avg_entry")
    ]
    return portfolio_from_ledger(
        initial_cash=Decimal(str(settings.PORTFOLIO_INITIAL_CASH)), fills=fills, holdings=holdings
    )


def portfolio_snapshot_record(*, now: datetime | None = None) -> PortfolioSnapshot:
    """Value, cash, exposure, daily P&L and drawdown of the configured broker's account.

    The broker's own account (``broker_default()``) is preferred; when it cannot
    be reached or is not available the figures are computed from our trades and positions
    (degraded, logged, counted in ``tradebot_learning_snapshots_total{source="database"}``).
    """
    at = (now or market_clock().now()).replace(microsecond=0)
    kind = settings.BROKER_KIND
    try:
        figures = _figures_from_broker(kind)
        source = "broker"
    except Exception as exc:  # noqa: BLE001 - any adapter failure degrades to our own ledger
        log.warning(
            "learning: broker %r account unavailable (%s: %s); snapshot computed from the database",
            kind,
            type(exc).__name__,
            exc,
        )
        figures = _figures_from_db(kind)
        source = "database"
    earlier = PortfolioSnapshot.objects.filter(broker=kind, time__lt=at)
    peak = earlier.aggregate(m=Max("value"))["m"]
    day_start = datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)
    reference = (
        earlier.filter(time__lt=day_start).order_by("-time").first()
        or earlier.filter(time__gte=day_start, time__lt=day_start + timedelta(days=1))
        .order_by("time")
        .first()
    )
    daily_pnl = figures.value - reference.value if reference is not None else Decimal(0)
    snap, _ = PortfolioSnapshot.objects.update_or_create(
        broker=kind,
        time=at,
        defaults={
            "value": figures.value,
            "cash": figures.cash,
            "exposure": figures.exposure,
            "daily_pnl": daily_pnl,
            "drawdown": drawdown_compute(value=figures.value, peak=peak),
        },
    )
    metrics.SNAPSHOTS.labels(source).inc()
    metrics.PORTFOLIO_VALUE.labels(kind).set(float(figures.value))
    metrics.PORTFOLIO_DRAWDOWN.labels(kind).set(snap.drawdown)
    return snap
