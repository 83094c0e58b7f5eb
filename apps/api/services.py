"""Writes of the API: idempotent manual overrides (each behind a step-up) and backtest runs.

Every override runs through :func:`override_run`: the first request with an Idempotency-Key claims
it (a committed row), its effect runs once and its answer is stored; the same key again gets the
stored answer and no second effect. A key reused for a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from apps.api.auth.passkeys import StepUpAction, step_up_consume
from apps.api.metrics import OVERRIDES
from apps.api.models import IdempotentRequest
from apps.api.selectors import learning_state, trading_control_get
from apps.backtests.services import backtest_enqueue
from apps.core.clock import wall_now
from apps.execution.costs import commission_parse, slippage_parse
from apps.execution.services import broker_default, context_live, trading_pause, trading_resume
from apps.execution.services.manual import CloseBlocked, NothingToClose, position_close
from apps.execution.services.orders import CLIENT_ID_PREFIX
from apps.learning.services import learning_freeze, weights_reset
from backtesting.config import BacktestConfig

log = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")


class OverrideRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class OverrideAnswer:
    status: int
    body: dict[str, Any]
    replayed: bool


Effect = Callable[[IdempotentRequest], tuple[int, dict[str, Any]]]


def _fingerprint(action: str, payload: dict[str, Any]) -> str:
    canonical = json.dumps({"action": action, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def override_run(
    *,
    user: User,
    key: str | None,
    action: StepUpAction,
    payload: dict[str, Any],
    step_up: str | None,
    target: str = "",
    effect: Effect,
) -> OverrideAnswer:
    """Run ``effect`` at most once per (user, key), after a step-up grant for ``action``."""
    if not key or not KEY_RE.match(key):
        OVERRIDES.labels(action, "refused").inc()
        raise OverrideRefused(
            400,
            "idempotency_key",
            "An Idempotency-Key header (8-100 of [A-Za-z0-9_.:-]) is required.",
        )
    fingerprint = _fingerprint(action, payload)
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                user=user, key=key, action=action, fingerprint=fingerprint
            )
    except IntegrityError:
        record = IdempotentRequest.objects.get(user=user, key=key)
        if record.fingerprint != fingerprint:
            OVERRIDES.labels(action, "refused").inc()
            raise OverrideRefused(
                422, "idempotency_key_reused", "This Idempotency-Key was used for another request."
            ) from None
        if record.state != IdempotentRequest.State.DONE:
            OVERRIDES.labels(action, "refused").inc()
            raise OverrideRefused(
                409, "in_progress", "A request with this Idempotency-Key is still running."
            ) from None
        OVERRIDES.labels(action, "replayed").inc()
        return OverrideAnswer(
            status=int(record.status_code or 200), body=dict(record.response or {}), replayed=True
        )
    if not step_up_consume(user=user, token=step_up or "", action=action, target=target):
        record.delete()  # nothing happened: the same key may be used again with a step-up
        OVERRIDES.labels(action, "refused").inc()
        raise OverrideRefused(
            403,
            "step_up_required",
            f"This action needs a fresh passkey confirmation for {action!r} (X-Step-Up header).",
        )
    try:
        status, body = effect(record)
    except OverrideRefused as exc:
        _finish(record, exc.status, {"detail": exc.detail, "code": exc.code})
        OVERRIDES.labels(action, "refused").inc()
        raise
    except Exception:
        # Unknown outcome: free the key so the client can retry; effects that reach a broker are
        # themselves idempotent (the client order id is derived from the key).
        record.delete()
        raise
    _finish(record, status, body)
    OVERRIDES.labels(action, "done").inc()
    return OverrideAnswer(status=status, body=body, replayed=False)


def _finish(record: IdempotentRequest, status: int, body: dict[str, Any]) -> None:
    record.state = IdempotentRequest.State.DONE
    record.status_code = status
    record.response = json.loads(json.dumps(body, default=str))
    record.finished_at = wall_now()
    record.save(update_fields=["state", "status_code", "response", "finished_at"])


def manual_client_order_id(*, user_id: int, key: str, ticker: str) -> str:
    """The client order id of a manual close: the same (user, key) always gives the same id."""
    digest = hashlib.sha1(f"manual/{user_id}/{key}/{ticker}".encode()).hexdigest()[:20]
    return CLIENT_ID_PREFIX + digest


# --- the effects --------------------------------------------------------------------------------


def control_body() -> dict[str, Any]:
    control = trading_control_get()
    learning = learning_state()
    return {
        "state": control.state,
        "reason": control.reason,
        "changed_at": control.changed_at.isoformat() if control.changed_at else None,
        "kill_switch": control.state == "paused",
        "learning_frozen": learning.frozen,
    }


def effect_pause(reason: str) -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        trading_pause(reason=reason or "paused from the dashboard", broker=None)
        return 200, {**control_body(), "canceled_orders": []}

    return run


def effect_resume() -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        trading_resume()
        return 200, {**control_body(), "canceled_orders": []}

    return run


def effect_kill_switch(reason: str) -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        canceled = trading_pause(
            reason=reason or "kill switch (dashboard)", broker=broker_default()
        )
        return 200, {**control_body(), "canceled_orders": canceled}

    return run


def effect_force_close(*, user_id: int, key: str, ticker: str) -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        try:
            result = position_close(
                context_live(),
                ticker=ticker,
                client_order_id=manual_client_order_id(user_id=user_id, key=key, ticker=ticker),
            )
        except NothingToClose:
            raise OverrideRefused(404, "no_position", f"No open position in {ticker}.") from None
        except CloseBlocked as exc:
            raise OverrideRefused(409, "stop_not_canceled", str(exc)) from None
        t = result.trade
        return 202, {
            "order": {
                "id": t.pk,
                "client_order_id": t.client_order_id,
                "ticker": t.ticker,
                "side": t.side,
                "qty": str(t.qty),
                "status": t.status,
            }
        }

    return run


def effect_learning_freeze(*, frozen: bool, reason: str) -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        state = learning_freeze(frozen=frozen, reason=reason)
        return 200, {"frozen": state.frozen, "reason": state.reason}

    return run


def effect_weights_reset(*, strategy: str | None, to: Decimal | None, reason: str) -> Effect:
    def run(_: IdempotentRequest) -> tuple[int, dict[str, Any]]:
        try:
            weights = weights_reset(strategy=strategy, to=to, reason=reason or "reset (dashboard)")
        except ValueError as exc:
            raise OverrideRefused(400, "invalid", str(exc)) from None
        return 200, {"weights": {k: str(v) for k, v in weights.items()}}

    return run


def backtest_create(*, config: dict[str, Any], name: str, walk_forward: str | None) -> Any:
    """Queue a backtest run on the ``backtest`` queue from a validated config."""
    data = {
        **config,
        "name": name,
        "start": config["start"].isoformat() if config.get("start") else None,
        "end": config["end"].isoformat() if config.get("end") else None,
        "commission": commission_parse(config["commission"]).to_dict(),
        "slippage": slippage_parse(config["slippage"]).to_dict(),
        "strategies": [
            {"name": s["name"], "params": {p["name"]: p["value"] for p in s["params"]}}
            for s in config["strategies"]
        ],
        "initial_weights": {
            s["name"]: s["weight"] for s in config["strategies"] if s.get("weight") is not None
        },
    }
    parsed = BacktestConfig.from_dict(data)
    return backtest_enqueue(config=parsed, walk_forward=walk_forward, name=name)
