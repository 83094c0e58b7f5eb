"""Trading control and the other manual overrides: idempotent (Idempotency-Key) and behind a
step-up (X-Step-Up) each."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api import services
from apps.api.auth.passkeys import StepUpAction
from apps.api.serializers import (
    ControlResultSerializer,
    ControlStateSerializer,
    ForceCloseResultSerializer,
    FreezeResultSerializer,
    FreezeSerializer,
    ReasonSerializer,
    WeightsResetSerializer,
    WeightsResultSerializer,
)
from apps.api.services import OverrideRefused, override_run
from apps.api.views.common import (
    AUTH_ERRORS,
    IDEMPOTENCY_HEADER,
    OVERRIDE_ERRORS,
    STEP_UP_HEADER,
    ApiView,
    error,
    idempotency_key,
    override_response,
    refused_response,
    step_up_token,
    user_of,
)

TICKER_PATTERN = r"[A-Za-z][A-Za-z0-9.\-]{0,11}"


def _override(
    request: Request,
    *,
    action: StepUpAction,
    payload: dict[str, Any],
    effect: Any,
    key: str | None = None,
    target: str = "",
) -> Response:
    """Run one override through the service (idempotency key, step-up) and encode its answer."""
    try:
        return override_response(
            override_run(
                user=user_of(request),
                key=key if key is not None else idempotency_key(request),
                action=action,
                payload=payload,
                step_up=step_up_token(request),
                target=target,
                effect=effect,
            )
        )
    except OverrideRefused as exc:
        return refused_response(exc)


class ControlView(ApiView):
    @extend_schema(
        tags=["control"],
        responses={200: ControlStateSerializer, **AUTH_ERRORS},
        summary="Trading state: active, paused (kill switch) or halted with the reason",
    )
    def get(self, request: Request) -> Response:
        return Response(services.control_body())


def _reason(request: Request) -> str:
    s = ReasonSerializer(data=request.data if isinstance(request.data, dict) else {})
    s.is_valid(raise_exception=True)
    return str(s.validated_data["reason"])


def _override_doc(summary: str, request: Any, response: Any) -> Any:
    return extend_schema(
        tags=["control"],
        summary=summary,
        parameters=[IDEMPOTENCY_HEADER, STEP_UP_HEADER],
        request=request,
        responses={200: response, **OVERRIDE_ERRORS},
    )


class PauseView(ApiView):
    @_override_doc(
        "Pause trading (nothing new is placed)", ReasonSerializer, ControlResultSerializer
    )
    def post(self, request: Request) -> Response:
        reason = _reason(request)
        return _override(
            request,
            action=StepUpAction.PAUSE,
            payload={"reason": reason},
            effect=services.effect_pause(reason),
        )


class ResumeView(ApiView):
    @_override_doc("Resume trading after a pause", None, ControlResultSerializer)
    def post(self, request: Request) -> Response:
        return _override(
            request,
            action=StepUpAction.RESUME,
            payload={},
            effect=services.effect_resume(),
        )


class KillSwitchView(ApiView):
    @_override_doc(
        "Kill switch: pause and cancel every open order at the broker",
        ReasonSerializer,
        ControlResultSerializer,
    )
    def post(self, request: Request) -> Response:
        reason = _reason(request)
        return _override(
            request,
            action=StepUpAction.KILL_SWITCH,
            payload={"reason": reason},
            effect=services.effect_kill_switch(reason),
        )


class ForceCloseView(ApiView):
    @extend_schema(
        tags=["control"],
        summary="Force-close a position: one market order for its whole size",
        parameters=[IDEMPOTENCY_HEADER, STEP_UP_HEADER],
        request=None,
        responses={202: ForceCloseResultSerializer, **OVERRIDE_ERRORS},
    )
    def post(self, request: Request, ticker: str) -> Response:
        ticker = ticker.upper()
        key = idempotency_key(request)
        return _override(
            request,
            action=StepUpAction.FORCE_CLOSE,
            payload={"ticker": ticker},
            effect=services.effect_force_close(user_id=user_of(request).pk, key=key, ticker=ticker),
            key=key,
            target=ticker,
        )


class LearningFreezeView(ApiView):
    @extend_schema(
        tags=["strategies"],
        summary="Freeze or unfreeze learning (weights stay put while frozen)",
        parameters=[IDEMPOTENCY_HEADER, STEP_UP_HEADER],
        request=FreezeSerializer,
        responses={200: FreezeResultSerializer, **OVERRIDE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        s = FreezeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        frozen, reason = bool(s.validated_data["frozen"]), str(s.validated_data["reason"])
        return _override(
            request,
            action=StepUpAction.LEARNING_FREEZE,
            payload={"frozen": frozen, "reason": reason},
            effect=services.effect_learning_freeze(frozen=frozen, reason=reason),
        )


class WeightsResetView(ApiView):
    @extend_schema(
        tags=["strategies"],
        summary="Reset weights (all to their initial weights, or one strategy to a value)",
        parameters=[IDEMPOTENCY_HEADER, STEP_UP_HEADER],
        request=WeightsResetSerializer,
        responses={200: WeightsResultSerializer, **OVERRIDE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        s = WeightsResetSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        if v["to"] is not None and not v["strategy"]:
            return error(400, "invalid", "`to` needs a `strategy`.")
        return _override(
            request,
            action=StepUpAction.WEIGHTS_RESET,
            payload={"strategy": v["strategy"], "to": str(v["to"]), "reason": v["reason"]},
            effect=services.effect_weights_reset(
                strategy=v["strategy"], to=v["to"], reason=v["reason"]
            ),
        )
