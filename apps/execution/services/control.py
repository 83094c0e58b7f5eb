"""The trading switch: ACTIVE, HALTED (exits only) and PAUSED (kill switch), and the loss limits."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.execution.brokers.base import Broker, BrokerError
from apps.execution.metrics import TRADING_STATE
from apps.execution.models import TradingControl
from apps.execution.risk import (
    LimitBreach,
    RiskConfig,
    RiskMarks,
    TradingState,
    risk_marks_step,
)

log = logging.getLogger(__name__)


def trading_control(*, pk: int = 1) -> TradingControl:
    control, _ = TradingControl.objects.get_or_create(
        pk=pk, defaults={"label": "live" if pk == 1 else f"account-{pk}"}
    )
    return control


def trading_state(*, pk: int = 1) -> TradingState:
    return TradingState(trading_control(pk=pk).state)


def _set(control: TradingControl, state: str, reason: str) -> TradingControl:
    control.state, control.reason = state, reason[:300]
    control.save(update_fields=["state", "reason", "changed_at"])
    for s in TradingState:
        TRADING_STATE.labels(control.label or str(control.pk), s.value).set(int(s == state))
    return control


@transaction.atomic
def trading_halt(*, reason: str, pk: int = 1) -> TradingControl:
    """ACTIVE -> HALTED (a PAUSED account stays paused). Entries stop; exits continue."""
    control = TradingControl.objects.select_for_update().get(pk=trading_control(pk=pk).pk)
    if control.state == TradingControl.State.ACTIVE:
        log.warning("trading HALTED (%s): %s", control.label, reason)
        return _set(control, TradingControl.State.HALTED, reason)
    return control


@transaction.atomic
def trading_pause(*, reason: str, broker: Broker | None, pk: int = 1) -> list[str]:
    """Kill switch: PAUSED (nothing new is placed) and every open order at the broker canceled.

    Protective stops are canceled too (the switch means "stop everything"); ``trading_resume``
    places them again for the positions still open. Returns the canceled broker order ids.
    """
    control = TradingControl.objects.select_for_update().get(pk=trading_control(pk=pk).pk)
    _set(control, TradingControl.State.PAUSED, reason or "kill switch")
    canceled: list[str] = []
    if broker is not None:
        for order in broker.open_orders():
            try:
                broker.cancel_order(order.broker_order_id)
                canceled.append(order.broker_order_id)
            except BrokerError as exc:
                log.warning("kill switch: could not cancel %s: %s", order.broker_order_id, exc)
    log.warning(
        "trading PAUSED (kill switch, %s): %d open order(s) canceled", reason, len(canceled)
    )
    return canceled


@transaction.atomic
def trading_resume(*, pk: int = 1) -> TradingControl:
    """PAUSED -> ACTIVE. A HALTED account needs ``trading_reset`` (a limit was hit)."""
    control = TradingControl.objects.select_for_update().get(pk=trading_control(pk=pk).pk)
    if control.state == TradingControl.State.PAUSED:
        return _set(control, TradingControl.State.ACTIVE, "resumed")
    return control


@transaction.atomic
def trading_reset(*, equity: Decimal | None, pk: int = 1) -> TradingControl:
    """HALTED/PAUSED -> ACTIVE; the loss limits start again from ``equity`` (peak and day start)."""
    control = TradingControl.objects.select_for_update().get(pk=trading_control(pk=pk).pk)
    if equity is not None:
        control.peak_equity = equity
        control.day_start_equity = equity
        control.save(update_fields=["peak_equity", "day_start_equity", "changed_at"])
    return _set(control, TradingControl.State.ACTIVE, "reset")


# No savepoint of its own: inside a caller's transaction (a consumer's batch) the row lock and the
# writes are the caller's; alone, it is its own transaction.
@transaction.atomic(savepoint=False)
def risk_marks_apply(
    *, equity: Decimal, today: date, config: RiskConfig, pk: int = 1
) -> tuple[LimitBreach | None, TradingState]:
    """Roll the day's start and the equity peak forward; HALT when a loss limit is breached.
    Returns the breach (if any) and the account's trading state after it.

    Takes the account's row lock (held to the end of the caller's transaction): decisions of one
    account, from any number of workers or partitions, read and claim one after another, so a
    portfolio-wide limit sees every claim made before it.
    """
    control = TradingControl.objects.select_for_update().filter(pk=pk).first()
    if control is None:  # the first decision of this account
        control = TradingControl.objects.select_for_update().get(pk=trading_control(pk=pk).pk)
    before = RiskMarks(
        control.day,
        float(control.day_start_equity) if control.day_start_equity is not None else None,
        float(control.peak_equity) if control.peak_equity is not None else None,
        TradingState(control.state),
    )
    after, breach = risk_marks_step(before, equity=float(equity), today=today, config=config)
    changed = False
    if after.day != before.day or after.day_start_equity != before.day_start_equity:
        control.day, control.day_start_equity = today, equity
        changed = True
    if after.peak_equity != before.peak_equity:
        control.peak_equity = equity
        changed = True
    if changed:  # most decisions move no mark: no write (and no row version) for them
        control.save(update_fields=["day", "day_start_equity", "peak_equity", "changed_at"])
    if after.state != before.state and breach is not None:
        log.warning("risk limit %s breached: %s", breach.limit, breach.detail)
        _set(control, TradingControl.State.HALTED, f"{breach.limit}: {breach.detail}")
    return breach, TradingState(control.state)
