"""Shared bits of the API views: error responses, override answers, query parsing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers import ErrorSerializer
from apps.api.services import OverrideAnswer, OverrideRefused

ERR = OpenApiResponse(ErrorSerializer)
AUTH_ERRORS: dict[int, Any] = {401: ERR, 403: ERR}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r"^[A-Za-z0-9_.:\-]{8,100}$",
    description="8-100 chars of [A-Za-z0-9_.:-], unique per intended action: the same key again "
    "replays the first answer (header Idempotent-Replayed: true) and never acts twice.",
)
STEP_UP_HEADER = OpenApiParameter(
    "X-Step-Up",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="step_up_token from /api/step-up/complete for this action (single use, 2 minutes). "
    "Without it the answer is 403 code=step_up_required.",
)
OVERRIDE_ERRORS: dict[int, Any] = {400: ERR, 401: ERR, 403: ERR, 404: ERR, 409: ERR, 422: ERR}


def error(status_code: int, code: str, detail: str) -> Response:
    return Response({"detail": detail, "code": code}, status=status_code)


def override_response(answer: OverrideAnswer) -> Response:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return Response(answer.body, status=answer.status, headers=headers)


def refused_response(exc: OverrideRefused) -> Response:
    return error(exc.status, exc.code, exc.detail)


def parse_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:  # type: ignore[type-arg]
    # A plain dict: an empty value (``?since=``) is validated, not silently dropped as absent.
    s = serializer_class(data=request.query_params.dict())
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def user_of(request: Request) -> User:
    """The signed-in user (the view's permission already required one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def step_up_token(request: Request) -> str:
    return str(request.headers.get("X-Step-Up", ""))


def idempotency_key(request: Request) -> str:
    return str(request.headers.get("Idempotency-Key", ""))


__all__ = ["status"]


class StrictQueryMixin:
    """Refuse query parameters a view does not take (400), after authentication: what the
    OpenAPI document does not list is an error, not silently ignored."""

    query_serializer: type[serializers.Serializer] | None = None  # type: ignore[type-arg]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        allowed = set(self.query_serializer().fields) if self.query_serializer else set()
        if isinstance(self, generics.ListAPIView):
            allowed |= {"cursor", "limit"}
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["unknown query parameter"] for name in unknown[:10]})


# The bases of every API view and list endpoint. No docstrings on purpose: drf-spectacular takes the
# nearest class docstring as each endpoint's OpenAPI description (docs/openapi.yaml, and from it the
# dashboard's typed client), so a docstring here would replace every view's own.
class ApiView(StrictQueryMixin, APIView):
    pass


class ApiListView(StrictQueryMixin, generics.ListAPIView):  # type: ignore[type-arg]
    pass
