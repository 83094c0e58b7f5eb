"""Positions and realised P&L, moved by fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.execution.ledger import realised_pnl
from apps.execution.models import Position, Trade
from apps.execution.services.context import ExecutionContext

_MONEY = Decimal("0.0001")


@dataclass(frozen=True)
class FillResult:
    pnl: Decimal  # this fill's realised P&L net of its commission (entries: minus commission)
    closed: bool  # the fill brought the position to zero
    round_trip_pnl: Decimal  # realised P&L of the whole round trip (when closed)
    entry_signal_id: int | None = None  # the signal that opened the position
    entry_strategy: str = ""

    @staticmethod
    def none() -> FillResult:
        return FillResult(Decimal(0), False, Decimal(0))


def position_apply_fill(
    ctx: ExecutionContext,
    *,
    trade: Trade,
    signed_qty: Decimal,
    price: Decimal,
    commission: Decimal,
    at: datetime,
) -> FillResult:
    """Move ``trade.ticker``'s position by ``signed_qty`` at ``price``.

    Adding to a position re-averages the entry price; reducing it realises
    ``(price - avg_entry) * closed qty`` (sign-aware) minus the fill's commission.
    ``Position.realized_pnl`` accumulates the current round trip (reset when a position opens), so
    the closing fill can report the round trip's net P&L to the learning stage.
    """
    pos, _ = Position.objects.select_for_update().get_or_create(
        broker=ctx.label,
        ticker=trade.ticker,
        defaults={"qty": Decimal(0), "avg_entry": Decimal(0), "opened_at": at},
    )
    old = pos.qty
    new = old + signed_qty
    pnl = -commission
    if old == 0:
        pos.opened_at = at
        pos.realized_pnl = Decimal(0)
        pos.entry_trade = trade
        pos.stop_loss = trade.stop_price if trade.purpose == Trade.Purpose.ENTRY else None
    if old == 0 or (old > 0) == (signed_qty > 0):
        pos.avg_entry = ((pos.avg_entry * abs(old) + price * abs(signed_qty)) / abs(new)).quantize(
            Decimal("0.000001")
        )
    else:
        closed_qty = min(abs(signed_qty), abs(old))
        signed_closed = closed_qty if old > 0 else -closed_qty
        pnl += realised_pnl(qty=signed_closed, entry_price=pos.avg_entry, exit_price=price)
        if new != 0 and (new > 0) != (old > 0):  # flipped through zero
            pos.avg_entry = price
            pos.opened_at = at
            pos.entry_trade = trade
    pnl = pnl.quantize(_MONEY)
    pos.realized_pnl = (pos.realized_pnl + pnl).quantize(_MONEY)
    pos.qty = new
    pos.last_price = price
    pos.unrealized_pnl = ((price - pos.avg_entry) * new).quantize(_MONEY) if new else Decimal(0)
    closed = new == 0 and old != 0
    entry = pos.entry_trade
    if closed:
        pos.stop_loss = None
    pos.save()
    return FillResult(
        pnl=pnl,
        closed=closed,
        round_trip_pnl=pos.realized_pnl,
        entry_signal_id=entry.signal_id if entry is not None else None,
        entry_strategy=entry.strategy if entry is not None else "",
    )


def positions_mark(ctx: ExecutionContext, *, prices: dict[str, Decimal]) -> int:
    """Mark open positions at ``prices`` (last price and unrealised P&L). Returns rows updated."""
    n = 0
    for pos in Position.objects.filter(broker=ctx.label, ticker__in=list(prices)).exclude(qty=0):
        px = prices[pos.ticker]
        pos.last_price = px
        pos.unrealized_pnl = ((px - pos.avg_entry) * pos.qty).quantize(_MONEY)
        pos.save(update_fields=["last_price", "unrealized_pnl", "updated_at"])
        n += 1
    return n
