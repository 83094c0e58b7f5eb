"""JWT sessions: a short access token (kept in memory by the client) and a rotating refresh token
(httpOnly cookie). Each sign-in starts a token family; every refresh rotates the token and
blacklists the old one; presenting an already-rotated token again revokes the whole family."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.api import store
from apps.api.auth.notify import sockets_close
from apps.api.metrics import AUTH_EVENTS
from apps.api.models import TokenFamily
from apps.core.clock import wall_now

log = logging.getLogger(__name__)

FAMILY_CLAIM = "fam"
_REVOKED_KEY = "api:fam:revoked:{}"


class RefreshRefused(Exception):
    """The refresh token is missing, invalid, expired, revoked or reused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Session:
    user_id: int
    family: uuid.UUID
    access: str
    access_expires_at: datetime
    refresh: str
    refresh_expires_at: datetime


def _pair(user: User, family: uuid.UUID) -> Session:
    refresh = RefreshToken.for_user(user)  # records an OutstandingToken (blacklist app)
    refresh[FAMILY_CLAIM] = str(family)
    access = refresh.access_token  # copies the family claim
    return Session(
        user_id=int(user.pk),
        family=family,
        access=str(access),
        access_expires_at=datetime.fromtimestamp(int(access["exp"]), tz=UTC),
        refresh=str(refresh),
        refresh_expires_at=datetime.fromtimestamp(int(refresh["exp"]), tz=UTC),
    )


def session_start(*, user: User) -> Session:
    """A new sign-in: a new token family and its first pair."""
    family = TokenFamily.objects.create(user=user)
    AUTH_EVENTS.labels("sign_in").inc()
    return _pair(user, family.id)


def family_is_revoked(family: str) -> bool:
    """Revocations are mirrored in Redis so that checking an access token costs no query."""
    return bool(store.redis_client().exists(_REVOKED_KEY.format(family)))


def family_revoke(*, family: uuid.UUID | str, reason: str) -> bool:
    """Revoke a family: its refresh tokens stop working, its access tokens are refused at once,
    and the WebSockets opened under it are closed. Returns False if it was revoked already."""
    now = wall_now()
    changed = TokenFamily.objects.filter(pk=family, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason[:40]
    )
    store.redis_client().set(
        _REVOKED_KEY.format(family), reason, ex=settings.API_REFRESH_TTL_S + 60
    )
    if changed:
        AUTH_EVENTS.labels(f"revoked_{reason}").inc()
        transaction.on_commit(lambda: sockets_close(family=str(family)))
    return bool(changed)


def session_refresh(*, raw: str | None) -> Session:
    """Rotate a refresh token. A token that was already rotated is a reuse: the family is revoked."""
    if not raw:
        raise RefreshRefused("missing")
    try:
        token = RefreshToken(raw, verify=False)  # type: ignore[arg-type]
        token.verify_token_type()
        # Signature and expiry (not the blacklist: a blacklisted token is a reuse, handled below).
        token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenError as exc:
        raise RefreshRefused("invalid") from exc
    except Exception as exc:  # noqa: BLE001 - any undecodable token is simply invalid
        raise RefreshRefused("invalid") from exc
    family = token.get(FAMILY_CLAIM)
    jti = token.get(jwt_settings.JTI_CLAIM)
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    if not family or not jti or user_id is None:
        raise RefreshRefused("invalid")
    with transaction.atomic():
        fam = TokenFamily.objects.select_for_update().filter(pk=family).first()
        if fam is None or fam.revoked_at is not None:
            raise RefreshRefused("revoked")
        outstanding = OutstandingToken.objects.filter(jti=jti).first()
        if outstanding is None:
            raise RefreshRefused("invalid")
        _, first_use = BlacklistedToken.objects.get_or_create(token=outstanding)
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if first_use and user is not None:
            TokenFamily.objects.filter(pk=fam.pk).update(
                rotated_at=wall_now(), rotations=fam.rotations + 1
            )
            AUTH_EVENTS.labels("refresh").inc()
            return _pair(user, fam.id)
    if user is None:
        raise RefreshRefused("invalid")
    # Outside the transaction above: the revocation must stick although the request fails.
    log.warning("refresh token reuse for user %s: family %s revoked", user_id, family)
    AUTH_EVENTS.labels("refresh_reuse").inc()
    family_revoke(family=family, reason="reuse")
    raise RefreshRefused("reused")


def session_end(*, raw: str | None) -> bool:
    """Sign out: revoke the family of the presented refresh token (if it is one of ours)."""
    if not raw:
        return False
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a bad cookie signs nobody out
        return False
    family = payload.get(FAMILY_CLAIM)
    if not family:
        return False
    AUTH_EVENTS.labels("sign_out").inc()
    return family_revoke(family=family, reason="sign_out")
