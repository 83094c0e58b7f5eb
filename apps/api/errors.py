"""One error shape for the whole API: ``{"detail", "code", "errors"?}``."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        detail: Any = exc.detail
        if isinstance(detail, dict):  # simplejwt's token errors: {"detail", "code", "messages"}
            detail = detail.get("detail", exc.default_detail)
        elif isinstance(detail, list):
            detail = exc.default_detail
        codes = exc.get_codes()
        response.data = {
            "detail": str(detail),
            "code": codes if isinstance(codes, str) else str(exc.default_code),
        }
    return response
