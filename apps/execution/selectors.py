"""Reads of the execution stage: open positions and orders, P&L summary (dashboard, commands)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from apps.execution.models import Position, Trade

OPEN_STATUSES = (Trade.Status.NEW, Trade.Status.ACCEPTED, Trade.Status.PARTIALLY_FILLED)


def positions_open(*, broker: str) -> QuerySet[Position]:
    return Position.objects.filter(broker=broker).exclude(qty=0).order_by("ticker")


def orders_open(*, broker: str) -> QuerySet[Trade]:
    return Trade.objects.filter(broker=broker, status__in=OPEN_STATUSES).order_by("timestamp", "id")


@dataclass(frozen=True)
class PnlSummary:
    realized: Decimal  # sum of trade P&L, net of commissions
    unrealized: Decimal  # open positions at their last mark
    commission: Decimal
    orders: int
    filled: int
    rejected: int


def pnl_summary(*, broker: str) -> PnlSummary:
    trades = Trade.objects.filter(broker=broker)
    agg = trades.aggregate(pnl=Sum("pnl"), fees=Sum("commission"))
    unreal = positions_open(broker=broker).aggregate(u=Sum("unrealized_pnl"))["u"]
    return PnlSummary(
        realized=agg["pnl"] or Decimal(0),
        unrealized=unreal or Decimal(0),
        commission=agg["fees"] or Decimal(0),
        orders=trades.count(),
        filled=trades.filter(status=Trade.Status.FILLED).count(),
        rejected=trades.filter(status=Trade.Status.REJECTED).count(),
    )
