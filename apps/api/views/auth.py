"""Sign-up, sign-in, refresh and sign-out (public, under /api/auth/), and the signed-in user's
passkeys, step-up and WebSocket tickets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.auth import passkeys, tokens
from apps.api.auth.authentication import request_family
from apps.api.realtime.tickets import ticket_issue
from apps.api.serializers import (
    CeremonyOptionsSerializer,
    CredentialCompleteSerializer,
    PasskeySerializer,
    RegisterBeginSerializer,
    RegisterCompleteSerializer,
    SessionSerializer,
    StepUpBeginSerializer,
    StepUpGrantSerializer,
    UserSerializer,
    WsTicketSerializer,
)
from apps.api.views.common import AUTH_ERRORS, ERR, ApiView, error, user_of


def _user(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username(), "is_staff": bool(user.is_staff)}


def _session_response(session: tokens.Session, user: Any, code: int = 200) -> Response:
    response = Response(
        {
            "access": session.access,
            "access_expires_at": session.access_expires_at,
            "user": _user(user),
        },
        status=code,
    )
    response.set_cookie(
        settings.API_REFRESH_COOKIE,
        session.refresh,
        max_age=settings.API_REFRESH_TTL_S,
        path=settings.API_REFRESH_COOKIE_PATH,
        secure=settings.API_REFRESH_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    response["Cache-Control"] = "no-store"
    return response


def _clear_cookie(response: Response) -> Response:
    response.delete_cookie(
        settings.API_REFRESH_COOKIE, path=settings.API_REFRESH_COOKIE_PATH, samesite="Strict"
    )
    return response


def _origin_ok(request: Request) -> bool:
    """Cookie-authenticated POSTs: a browser always sends Origin on them; a foreign one is refused
    (SameSite=Strict already keeps the cookie off cross-site requests)."""
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") in (settings.DASHBOARD_ORIGIN, settings.API_ORIGIN)


def _ceremony_error(exc: passkeys.CeremonyError) -> Response:
    return error(exc.status, exc.code, exc.detail)


class PublicView(ApiView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class RegisterBeginView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=RegisterBeginSerializer,
        responses={200: CeremonyOptionsSerializer, 400: ERR, 401: ERR},
        summary="Start registering the first passkey from a one-time registration link",
    )
    def post(self, request: Request) -> Response:
        s = RegisterBeginSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            c = passkeys.registration_begin(
                request=request._request, link_token=s.validated_data["token"]
            )
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        return Response({"ceremony_id": c.id, "options": c.options})


class RegisterCompleteView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=RegisterCompleteSerializer,
        responses={201: SessionSerializer, 400: ERR, 401: ERR},
        summary="Finish registration: the passkey is stored, the user is signed in",
        description="Sets the refresh cookie (httpOnly, Secure, SameSite=Strict, Path=/api/auth/refresh).",
    )
    def post(self, request: Request) -> Response:
        s = RegisterCompleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            user, _ = passkeys.registration_complete(
                request=request._request,
                ceremony_id=s.validated_data["ceremony_id"],
                credential=s.validated_data["credential"],
                name=s.validated_data["name"],
            )
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        return _session_response(tokens.session_start(user=user), user, status.HTTP_201_CREATED)


class LoginBeginView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=None,
        responses={200: CeremonyOptionsSerializer},
        summary="Start a passkey sign-in (discoverable credential, user verification required)",
    )
    def post(self, request: Request) -> Response:
        c = passkeys.login_begin(request=request._request)
        return Response({"ceremony_id": c.id, "options": c.options})


class LoginCompleteView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=CredentialCompleteSerializer,
        responses={200: SessionSerializer, 400: ERR, 401: ERR},
        summary="Finish the sign-in: access token in the body, refresh token in the cookie",
    )
    def post(self, request: Request) -> Response:
        s = CredentialCompleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            user = passkeys.login_complete(
                request=request._request,
                ceremony_id=s.validated_data["ceremony_id"],
                credential=s.validated_data["credential"],
            )
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        return _session_response(tokens.session_start(user=user), user)


class RefreshView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=None,
        responses={200: SessionSerializer, 401: ERR, 403: ERR},
        summary="Rotate the refresh cookie and get a new access token",
        description="Reads the refresh cookie. The old refresh token is blacklisted; presenting "
        "it again revokes the whole sign-in (every token of its family, its sockets).",
    )
    def post(self, request: Request) -> Response:
        if not _origin_ok(request):
            return error(403, "bad_origin", "Foreign origin.")
        try:
            session = tokens.session_refresh(raw=request.COOKIES.get(settings.API_REFRESH_COOKIE))
        except tokens.RefreshRefused as exc:
            return _clear_cookie(error(401, f"refresh_{exc.reason}", "Sign in again."))
        user = get_user_model().objects.get(pk=session.user_id)
        return _session_response(session, user)


class SignOutView(PublicView):
    @extend_schema(
        tags=["auth"],
        auth=[],
        request=None,
        responses={204: None, 403: ERR},
        summary="Sign out: revoke this sign-in's tokens and close its sockets",
    )
    def post(self, request: Request) -> Response:
        if not _origin_ok(request):
            return error(403, "bad_origin", "Foreign origin.")
        tokens.session_end(raw=request.COOKIES.get(settings.API_REFRESH_COOKIE))
        return _clear_cookie(Response(status=status.HTTP_204_NO_CONTENT))


# --- signed in ----------------------------------------------------------------------------------


class MeView(ApiView):
    @extend_schema(tags=["auth"], responses={200: UserSerializer, **AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        return Response(_user(request.user))


def _passkey(d: Any) -> dict[str, Any]:
    return {
        "id": d.pk,
        "name": d.name,
        "created_at": d.created_at,
        "last_used_at": d.last_used_at,
        "discoverable": d.discoverable,
        "backup_eligible": bool(d.backup_eligible),
    }


class PasskeyListView(ApiView):
    @extend_schema(tags=["passkeys"], responses={200: PasskeySerializer(many=True), **AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        return Response([_passkey(d) for d in passkeys.passkeys_of(user=user_of(request))])


class PasskeyAddBeginView(ApiView):
    @extend_schema(
        tags=["passkeys"],
        request=None,
        responses={200: CeremonyOptionsSerializer, **AUTH_ERRORS},
        summary="Start adding another passkey",
    )
    def post(self, request: Request) -> Response:
        c = passkeys.registration_begin(request=request._request, user=user_of(request))
        return Response({"ceremony_id": c.id, "options": c.options})


class PasskeyAddCompleteView(ApiView):
    @extend_schema(
        tags=["passkeys"],
        request=RegisterCompleteSerializer,
        responses={201: PasskeySerializer, 400: ERR, **AUTH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        s = RegisterCompleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            _, device = passkeys.registration_complete(
                request=request._request,
                ceremony_id=s.validated_data["ceremony_id"],
                credential=s.validated_data["credential"],
                name=s.validated_data["name"],
                user=user_of(request),
            )
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        return Response(_passkey(device), status=status.HTTP_201_CREATED)


class PasskeyDeleteView(ApiView):
    @extend_schema(
        tags=["passkeys"],
        responses={204: None, 404: ERR, 409: ERR, **AUTH_ERRORS},
        summary="Remove a passkey (not the last one)",
    )
    def delete(self, request: Request, passkey_id: int) -> Response:
        try:
            removed = passkeys.passkey_remove(user=user_of(request), passkey_id=passkey_id)
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        if not removed:
            return error(404, "not_found", "No such passkey.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class StepUpBeginView(ApiView):
    @extend_schema(
        tags=["step-up"],
        request=StepUpBeginSerializer,
        responses={200: CeremonyOptionsSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Start a step-up: a fresh user-verified assertion bound to one action",
    )
    def post(self, request: Request) -> Response:
        s = StepUpBeginSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        c = passkeys.step_up_begin(
            request=request._request,
            user=user_of(request),
            action=passkeys.StepUpAction(s.validated_data["action"]),
            target=s.validated_data["target"],
        )
        return Response({"ceremony_id": c.id, "options": c.options})


class StepUpCompleteView(ApiView):
    @extend_schema(
        tags=["step-up"],
        request=CredentialCompleteSerializer,
        responses={200: StepUpGrantSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Finish the step-up: a single-use token for the action, valid 2 minutes",
    )
    def post(self, request: Request) -> Response:
        s = CredentialCompleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            token, action, target = passkeys.step_up_complete(
                request=request._request,
                user=user_of(request),
                ceremony_id=s.validated_data["ceremony_id"],
                credential=s.validated_data["credential"],
            )
        except passkeys.CeremonyError as exc:
            return _ceremony_error(exc)
        return Response(
            {
                "step_up_token": token,
                "action": action,
                "target": target,
                "expires_in": settings.API_STEP_UP_TTL_S,
            }
        )


class WsTicketView(ApiView):
    @extend_schema(
        tags=["realtime"],
        request=None,
        responses={201: WsTicketSerializer, **AUTH_ERRORS},
        summary="A single-use WebSocket ticket (30 s) for /ws/?ticket=…",
    )
    def post(self, request: Request) -> Response:
        ticket = ticket_issue(user_id=user_of(request).pk, family=request_family(request))
        return Response(
            {
                "ticket": ticket,
                "expires_in": settings.API_WS_TICKET_TTL_S,
                "url": f"/ws/?ticket={ticket}",
            },
            status=status.HTTP_201_CREATED,
        )


__all__ = ["OpenApiResponse"]
