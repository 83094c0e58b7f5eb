"""Passkey ceremonies (django-otp-webauthn's helper) ending in JWT sessions instead of a Django
session login.

The library's own views keep ceremony state in the Django session; the API has no session, so the
state lives in Redis under a random ceremony id that the client sends back, and it is taken with
GETDEL: a ceremony completes at most once (a replayed assertion finds no state). Verification
(challenge, origin, RP id, signature, user verification, sign counter) is the library's.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_otp_webauthn import exceptions as otp_exceptions
from django_otp_webauthn.models import AbstractWebAuthnCredential
from django_otp_webauthn.settings import app_settings as otp_settings
from django_otp_webauthn.utils import get_credential_model, rewrite_exceptions

from apps.api import store
from apps.api.metrics import PASSKEY_CEREMONIES
from apps.api.models import RegistrationLink
from apps.core.clock import wall_now

log = logging.getLogger(__name__)

_CEREMONY_KEY = "api:ceremony:{}"
_STEP_UP_KEY = "api:stepup:{}"


class StepUpAction(StrEnum):
    """Actions that need a fresh user-verified passkey assertion, each bound to its own grant."""

    PAUSE = "pause"
    RESUME = "resume"
    KILL_SWITCH = "kill_switch"
    FORCE_CLOSE = "force_close"
    WEIGHTS_RESET = "weights_reset"
    LEARNING_FREEZE = "learning_freeze"
    BROKER_SWITCH = "broker_switch"


class CeremonyError(Exception):
    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, status


@dataclass(frozen=True)
class Ceremony:
    id: str
    options: dict[str, Any]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _helper(request: HttpRequest) -> Any:
    return get_credential_model().get_webauthn_helper(request=request)


def _begin(
    kind: str, data: dict[str, Any], options: dict[str, Any], state: dict[str, Any]
) -> Ceremony:
    ceremony = store.new_token()
    store.put(
        _CEREMONY_KEY.format(ceremony),
        {"kind": kind, "state": state, **data},
        ttl_s=int(otp_settings.OTP_WEBAUTHN_TIMEOUT_SECONDS) + 30,
    )
    PASSKEY_CEREMONIES.labels(kind, "begun").inc()
    return Ceremony(id=ceremony, options=options)


def _take(ceremony_id: str, kind: str) -> dict[str, Any]:
    data = store.take(_CEREMONY_KEY.format(ceremony_id)) if ceremony_id else None
    if data is None or data.get("kind") != kind:
        PASSKEY_CEREMONIES.labels(kind, "no_state").inc()
        raise CeremonyError("invalid_state", "No such ceremony (expired, or already used).", 404)
    return data


def _verify(kind: str, call: Any) -> Any:
    """Run one of the library's verifications; its errors become CeremonyErrors."""
    try:
        with rewrite_exceptions(logger=log):
            return call()
    except otp_exceptions.OTPWebAuthnApiError as exc:
        PASSKEY_CEREMONIES.labels(kind, "refused").inc()
        raise CeremonyError(exc.code, str(exc), 401 if kind != "register" else 400) from exc
    except (KeyError, ValueError, TypeError) as exc:
        PASSKEY_CEREMONIES.labels(kind, "malformed").inc()
        raise CeremonyError("malformed", "Malformed credential.", 400) from exc


# --- sign-up links -----------------------------------------------------------------------------


def registration_link_issue(*, username: str, staff: bool = False) -> tuple[User, str]:
    """A one-time registration link (10 minutes) for ``username``; the user is created without a
    usable password if new. Returns the user and the URL to open in the dashboard."""
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=username)
        if created or user.has_usable_password():
            user.set_unusable_password()
        if staff:
            user.is_staff = user.is_superuser = True
        user.save()
        token = store.new_token()
        RegistrationLink.objects.create(
            user=user,
            token_hash=_hash(token),
            expires_at=wall_now() + timedelta(seconds=settings.API_REGISTRATION_LINK_TTL_S),
        )
    return user, f"{settings.DASHBOARD_ORIGIN}/register?token={token}"


def _link_valid(token: str) -> RegistrationLink:
    link = (
        RegistrationLink.objects.select_related("user")
        .filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=wall_now())
        .first()
        if token
        else None
    )
    if link is None or not link.user.is_active:
        raise CeremonyError(
            "invalid_link", "This registration link is invalid, used or expired.", 401
        )
    return link


# --- registration -------------------------------------------------------------------------------


def registration_begin(
    *, request: HttpRequest, link_token: str = "", user: User | None = None
) -> Ceremony:
    """Begin registering a passkey: for a new user from a registration link, or for a signed-in
    user adding another passkey."""
    data: dict[str, Any]
    if user is None:
        link = _link_valid(link_token)
        user = link.user
        data = {"user_id": user.pk, "link_id": link.pk}
    else:
        data = {"user_id": user.pk, "link_id": None}
    options, state = _helper(request).register_begin(user=user)
    # Passkeys here are always user-verified (the library's default is only "preferred").
    options.setdefault("authenticatorSelection", {})["userVerification"] = "required"
    state["require_user_verification"] = True
    return _begin("register", data, options, state)


def registration_complete(
    *,
    request: HttpRequest,
    ceremony_id: str,
    credential: dict[str, Any],
    name: str = "",
    user: User | None = None,
) -> tuple[User, AbstractWebAuthnCredential]:
    data = _take(ceremony_id, "register")
    owner = get_user_model().objects.get(pk=data["user_id"])
    if user is not None and user.pk != owner.pk:
        raise CeremonyError("invalid_state", "This ceremony belongs to another user.")
    if user is None and not data.get("link_id"):
        raise CeremonyError("invalid_state", "This ceremony needs a signed-in user.")
    with transaction.atomic():
        device = _verify(
            "register",
            lambda: _helper(request).register_complete(
                user=owner, state=data["state"], data=credential
            ),
        )
        if name:
            device.name = name[:64]
            device.save(update_fields=["name"])
        if data.get("link_id"):
            used = RegistrationLink.objects.filter(
                pk=data["link_id"], used_at__isnull=True, expires_at__gt=wall_now()
            ).update(used_at=wall_now())
            if used != 1:
                transaction.set_rollback(True)
                raise CeremonyError(
                    "invalid_link", "This registration link was used meanwhile.", 401
                )
    PASSKEY_CEREMONIES.labels("register", "ok").inc()
    return owner, device


# --- sign-in and step-up ------------------------------------------------------------------------


def login_begin(*, request: HttpRequest) -> Ceremony:
    """Passwordless sign-in with a discoverable passkey; user verification required."""
    options, state = _helper(request).authenticate_begin(user=None, require_user_verification=True)
    return _begin("login", {}, options, state)


def _device_usable(device: AbstractWebAuthnCredential) -> None:
    if not device.confirmed:
        raise CeremonyError("credential_disabled", "This passkey is disabled.", 401)
    if not device.user.is_active:
        raise CeremonyError("user_disabled", "This account is disabled.", 401)


def login_complete(*, request: HttpRequest, ceremony_id: str, credential: dict[str, Any]) -> User:
    data = _take(ceremony_id, "login")
    device = _verify(
        "login",
        lambda: _helper(request).authenticate_complete(
            user=None, state=data["state"], data=credential
        ),
    )
    _device_usable(device)
    PASSKEY_CEREMONIES.labels("login", "ok").inc()
    user: User = device.user
    return user


def step_up_begin(
    *, request: HttpRequest, user: User, action: StepUpAction, target: str = ""
) -> Ceremony:
    """A fresh assertion for one action. User verification is required (the library would not
    require it for a known user)."""
    options, state = _helper(request).authenticate_begin(user=user, require_user_verification=True)
    return _begin(
        "step_up", {"user_id": user.pk, "action": action, "target": target}, options, state
    )


def step_up_complete(
    *, request: HttpRequest, user: User, ceremony_id: str, credential: dict[str, Any]
) -> tuple[str, str, str]:
    """Verify the assertion and grant a single-use step-up token for the ceremony's action
    (valid ``API_STEP_UP_TTL_S`` seconds). Returns (token, action, target)."""
    data = _take(ceremony_id, "step_up")
    if data["user_id"] != user.pk:
        raise CeremonyError("invalid_state", "This ceremony belongs to another user.", 401)
    device = _verify(
        "step_up",
        lambda: _helper(request).authenticate_complete(
            user=user, state=data["state"], data=credential
        ),
    )
    _device_usable(device)
    token = store.new_token()
    store.put(
        _STEP_UP_KEY.format(token),
        {"user_id": user.pk, "action": data["action"], "target": data.get("target", "")},
        ttl_s=settings.API_STEP_UP_TTL_S,
    )
    PASSKEY_CEREMONIES.labels("step_up", "ok").inc()
    return token, str(data["action"]), str(data.get("target", ""))


def step_up_consume(*, user: User, token: str, action: StepUpAction, target: str = "") -> bool:
    """Use a step-up grant (once). True only for this user, this action and this target."""
    if not token:
        return False
    grant = store.take(_STEP_UP_KEY.format(token))
    if grant is None:
        return False
    return (
        grant.get("user_id") == user.pk
        and grant.get("action") == action
        and grant.get("target", "") in ("", target)
    )


# --- managing passkeys --------------------------------------------------------------------------


def passkeys_of(*, user: User) -> list[AbstractWebAuthnCredential]:
    return list(get_credential_model().objects.filter(user=user).order_by("created_at"))


def passkey_remove(*, user: User, passkey_id: int) -> bool:
    """Remove one of the user's passkeys; the last one cannot be removed (no way back in)."""
    model = get_credential_model()
    with transaction.atomic():
        owned = list(model.objects.select_for_update().filter(user=user))
        target = next((d for d in owned if d.pk == passkey_id), None)
        if target is None:
            return False
        if len(owned) == 1:
            raise CeremonyError("last_passkey", "The last passkey cannot be removed.", 409)
        target.delete()
    return True
