"""From a signal to (at most) one order: portfolio view, risk decision, exit/entry placement."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection

from apps.execution.brokers.base import Account, BrokerError
from apps.execution.metrics import ORDERS_DEFERRED, RISK_DECISIONS
from apps.execution.models import Position, Trade
from apps.execution.risk import (
    FLAT,
    LONG,
    SHORT,
    Holding,
    OrderIntent,
    Portfolio,
    SignalInput,
    TradingState,
    order_intent,
)
from apps.execution.services.context import ExecutionContext
from apps.execution.services.control import risk_marks_apply
from apps.execution.services.orders import (
    OPEN_STATUSES,
    OrderSpec,
    client_order_id_for,
    order_claim,
    order_send,
)
from apps.execution.services.stops import stop_cancel
from apps.market.calendar import orders_allowed
from apps.market.indicators import ATR_LOOKBACK, atr_last
from apps.strategies.models import Signal
from apps.strategies.selectors import bars_frame_upto

log = logging.getLogger(__name__)

_DIRECTIONS = {"long": LONG, "short": SHORT, "flat": FLAT}


@dataclass(frozen=True)
class SignalView:
    """What execution needs from a signal (a ``Signal`` row or a ``SignalEvent``)."""

    signal_id: int | None
    ticker: str
    direction: str
    strength: float
    decided_at: datetime
    price: Decimal | None
    strategy: str  # the dominant contributor


def portfolio_view(
    ctx: ExecutionContext, *, account: Account | None = None, working: list[Trade] | None = None
) -> Portfolio:
    """The account at the broker, plus open entry orders counted as if filled (they soon are).

    ``account``, ``working``: the broker's account and the account's open orders when the caller
    has just read them (a broker read and a query less).
    """
    account = account if account is not None else ctx.broker.account()
    holdings: dict[str, Holding] = {
        p.symbol: Holding(
            qty=float(p.qty),
            price=float(p.current_price or p.avg_entry_price),
            avg_entry=float(p.avg_entry_price),
        )
        for p in ctx.broker.positions()
    }
    if working is None:
        working = list(Trade.objects.filter(broker=ctx.label, status__in=OPEN_STATUSES))
    pending = [t for t in working if t.purpose == Trade.Purpose.ENTRY and t.ticker not in holdings]
    prices = _last_prices(ctx, {t.ticker for t in pending if not t.limit_price})
    for t in pending:
        if t.ticker not in holdings:
            px = float(t.limit_price or 0) or prices.get(t.ticker, 0.0)
            remaining = float(t.qty - t.filled_qty)
            holdings[t.ticker] = Holding(qty=remaining if t.side == "buy" else -remaining, price=px)
    return Portfolio(equity=float(account.equity), cash=float(account.cash), holdings=holdings)


def _last_prices(ctx: ExecutionContext, tickers: set[str]) -> dict[str, float]:
    """The last known price of each ticker: its position's mark, else its latest signal's price
    (two queries for all of them)."""
    if not tickers:
        return {}
    out = {
        t: float(px)
        for t, px in Position.objects.filter(
            broker=ctx.label, ticker__in=tickers, last_price__isnull=False
        ).values_list("ticker", "last_price")
        if px
    }
    rest = tickers - out.keys()
    if rest:
        # The newest priced signal per ticker: one index probe each (LATERAL ... LIMIT 1), where
        # DISTINCT ON would read and sort every signal of the tickers.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.ticker, s.price FROM unnest(%s::text[]) AS t(ticker) "
                f"CROSS JOIN LATERAL (SELECT price FROM {Signal._meta.db_table} "
                "WHERE account = %s AND ticker = t.ticker AND price IS NOT NULL "
                "ORDER BY decided_at DESC LIMIT 1) s",
                [sorted(rest), ctx.signals_account],
            )
            out.update({t: float(px) for t, px in cursor.fetchall() if px})
    return out


def signal_decide(
    ctx: ExecutionContext, *, signal: SignalView, atr: float | None = None
) -> Trade | None:
    """Check the loss limits, ask risk, and claim (at most) one order for the signal.

    Writes only to the database (the claim is a NEW trade row with a deterministic client id);
    the broker is read, never written. Send the claim with :func:`trade_send` after commit.
    Returns the claimed row, or None when risk places nothing.
    """
    if signal.price is None:
        RISK_DECISIONS.labels("no price").inc()
        log.info("signal %s %s: no price, skipped", signal.signal_id, signal.ticker)
        return None
    account = ctx.broker.account()
    _, state = risk_marks_apply(
        equity=account.equity, today=signal.decided_at.date(), config=ctx.risk, pk=ctx.control_pk
    )
    # The account's working orders, read once (after the row lock: every earlier claim is in).
    working = list(
        Trade.objects.filter(broker=ctx.label, status__in=OPEN_STATUSES).exclude(
            purpose=Trade.Purpose.STOP_LOSS
        )
    )
    if any(t.ticker == signal.ticker for t in working):
        RISK_DECISIONS.labels("order pending").inc()
        log.info(
            "signal %s %s: an order is already working, skipped", signal.signal_id, signal.ticker
        )
        return None
    portfolio = portfolio_view(ctx, account=account, working=working)
    if atr is None:  # read only for a decision that may size an order
        atr = _atr_for(signal)
    decision = order_intent(
        signal=SignalInput(
            ticker=signal.ticker,
            direction=_DIRECTIONS[signal.direction],
            strength=signal.strength,
            price=float(signal.price),
            atr=atr,
        ),
        portfolio=portfolio,
        state=state,
        config=ctx.risk,
    )
    intent = decision.intent
    if intent is None:
        RISK_DECISIONS.labels(_bucket(decision.reason)).inc()
        log.debug("signal %s %s: no order (%s)", signal.signal_id, signal.ticker, decision.reason)
        return None
    RISK_DECISIONS.labels(intent.purpose).inc()
    trade, _ = order_claim(
        ctx,
        spec=_spec(intent, state),
        client_order_id=client_order_id_for(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            decided_at=signal.decided_at,
            purpose=intent.purpose,
        ),
        decided_at=signal.decided_at,
        signal_id=signal.signal_id,
        strategy=signal.strategy,
    )
    if signal.signal_id is not None:
        Signal.objects.filter(pk=signal.signal_id).update(acted_on=True)
    return trade


def trade_send(ctx: ExecutionContext, *, trade: Trade) -> Trade:
    """Send a claimed order. An exit first cancels the position's stop (never a double sell)."""
    trade.refresh_from_db()
    if trade.status != Trade.Status.NEW:
        return trade
    if not _session_allows(ctx, trade):
        return trade
    if trade.purpose == Trade.Purpose.EXIT and not _clear_stops_for_exit(ctx, trade.ticker):
        log.info("exit of %s not sent: its stop filled first", trade.ticker)
        Trade.objects.filter(pk=trade.pk, status=Trade.Status.NEW).update(
            status=Trade.Status.CANCELED, reject_reason="not sent: the stop closed the position"
        )
        trade.refresh_from_db()
        return trade
    return order_send(ctx, trade=trade)


MAX_DEFERRAL = timedelta(days=4)


def _session_allows(ctx: ExecutionContext, trade: Trade) -> bool:
    """No entries/exits outside the session (unless TRADING_ALLOW_EXTENDED_HOURS): the claim waits
    (NEW, never attempted) and ``execution.sync_orders`` sends it once the broker's clock says the
    market is open; a claim older than MAX_DEFERRAL expires instead. The simulated broker fills
    from bars and is always open."""
    clock = ctx.broker.clock()
    if clock.is_open or orders_allowed(clock.timestamp):
        return True
    if clock.timestamp - trade.timestamp > MAX_DEFERRAL:
        Trade.objects.filter(pk=trade.pk, status=Trade.Status.NEW).update(
            status=Trade.Status.EXPIRED, reject_reason="market stayed closed; decision too old"
        )
        log.warning("order %s expired unsent: the market stayed closed", trade.client_order_id)
    else:
        ORDERS_DEFERRED.labels(ctx.label).inc()
        log.info("order %s waits for the session (market closed)", trade.client_order_id)
    trade.refresh_from_db()
    return False


def signal_execute(
    ctx: ExecutionContext, *, signal: SignalView, atr: float | None = None
) -> Trade | None:
    """Decide and send in one go (callers that hold no open transaction: replay, tasks, tests)."""
    trade = signal_decide(ctx, signal=signal, atr=atr)
    return None if trade is None else trade_send(ctx, trade=trade)


def trades_send_pending(ctx: ExecutionContext) -> int:
    """Send claims left NEW (a failed send after commit); safe: the broker is asked first."""
    sent = 0
    # an operational age against the rows' own (wall) ``updated_at``, not market time
    settled = ctx.wall() - timedelta(seconds=10)  # leave fresh claims to their own sender
    for trade in Trade.objects.filter(
        broker=ctx.label, status=Trade.Status.NEW, updated_at__lte=settled
    ).order_by("id"):
        try:
            trade_send(ctx, trade=trade)
            sent += 1
        except BrokerError as exc:
            log.warning("pending order %s not sent yet: %s", trade.client_order_id, exc)
    return sent


def _bucket(reason: str) -> str:
    # keep metric label cardinality small: the reason up to its first digit / parenthesis
    for stop in ("(", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":"):
        reason = reason.split(stop, maxsplit=1)[0]
    return reason.strip()[:40] or "none"


def _spec(intent: OrderIntent, state: TradingState) -> OrderSpec:
    return OrderSpec(
        ticker=intent.ticker,
        side=intent.side,
        qty=Decimal(intent.qty),
        purpose=Trade.Purpose.ENTRY if intent.purpose == "entry" else Trade.Purpose.EXIT,
        planned_stop=Decimal(str(intent.stop_price)).quantize(Decimal("0.01"))
        if intent.stop_price is not None
        else None,
        trail_percent=Decimal(str(intent.trail_percent)) if intent.trail_percent else None,
    )


def _clear_stops_for_exit(ctx: ExecutionContext, ticker: str) -> bool:
    """Cancel the position's resting stop before exiting, so both cannot fill (a double sell)."""
    for stop in Trade.objects.filter(
        broker=ctx.label, ticker=ticker, purpose=Trade.Purpose.STOP_LOSS, status__in=OPEN_STATUSES
    ):
        try:
            if not stop_cancel(ctx, trade=stop):
                return False
        except BrokerError as exc:
            log.warning("could not cancel stop %s before exit: %s", stop.client_order_id, exc)
            return False
    pos = Position.objects.filter(broker=ctx.label, ticker=ticker).first()
    return pos is not None and pos.qty != 0


def _atr_for(signal: SignalView) -> float | None:
    frame = bars_frame_upto(
        ticker=signal.ticker,
        timeframe=settings.SIGNALS_TIMEFRAME,
        at=signal.decided_at,
        limit=ATR_LOOKBACK,
    )
    return atr_last(frame.high, frame.low, frame.close)


def signal_view_from_row(signal: object) -> SignalView:
    """A ``strategies.Signal`` row as execution sees it."""
    assert isinstance(signal, Signal)
    sources = signal.strategy_sources or []
    dominant: dict[str, object] = max(
        sources, key=lambda c: abs(c.get("score", 0) * c.get("weight", 0)), default={}
    )
    return SignalView(
        signal_id=signal.pk,
        ticker=signal.ticker,
        direction=signal.direction,
        strength=signal.strength,
        decided_at=signal.decided_at,
        price=signal.price,
        strategy=str(dominant.get("strategy", "")),
    )
