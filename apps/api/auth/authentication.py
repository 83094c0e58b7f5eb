"""Bearer JWT authentication that also refuses tokens of a revoked family (signed out or reused)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from apps.api.auth.tokens import FAMILY_CLAIM, family_is_revoked


class JWTFamilyAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        family = token.get(FAMILY_CLAIM)
        if not family:
            raise InvalidToken("token has no session family")
        if family_is_revoked(str(family)):
            raise InvalidToken("session revoked")
        return token

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        return super().authenticate(request)


def request_family(request: Request) -> str:
    """The token family (sign-in session) of an authenticated request."""
    auth = request.auth
    return str(auth.get(FAMILY_CLAIM)) if isinstance(auth, Token) else ""
