"""JWT sessions: short access tokens, rotating refresh cookie, reuse revokes the family, sign-out,
and the fail-closed signing key."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.api.apps import jwt_key_check
from apps.api.tests.conftest import ORIGIN, SignedIn

pytestmark = pytest.mark.django_db


def _refresh(cookie: str, origin: str | None = ORIGIN) -> Any:
    c = APIClient()
    c.cookies[settings.API_REFRESH_COOKIE] = cookie
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    return c.post("/api/auth/refresh", **extra)


def test_access_token_lives_at_most_five_minutes(signed_in: SignedIn) -> None:
    token = AccessToken(signed_in.access)
    assert int(token["exp"]) - int(token["iat"]) <= 300
    assert token["fam"]


def test_refresh_rotates_and_the_old_token_is_dead(signed_in: SignedIn) -> None:
    r = _refresh(signed_in.refresh_cookie)
    assert r.status_code == 200, r.content
    new_cookie = r.cookies[settings.API_REFRESH_COOKIE].value
    assert new_cookie != signed_in.refresh_cookie
    assert signed_in.auth(r.json()["access"]).get("/api/portfolio").status_code == 200
    assert _refresh(new_cookie).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(signed_in: SignedIn) -> None:
    first = _refresh(signed_in.refresh_cookie)
    newest = first.cookies[settings.API_REFRESH_COOKIE].value
    access = first.json()["access"]
    reuse = _refresh(signed_in.refresh_cookie)  # a stolen, already rotated token
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_reused"
    # Everything of that sign-in is dead: the newest refresh token and the access tokens.
    assert _refresh(newest).status_code == 401
    assert signed_in.auth(access).get("/api/portfolio").status_code == 401
    assert signed_in.auth().get("/api/portfolio").status_code == 401


def test_sign_out_revokes_the_sign_in(signed_in: SignedIn) -> None:
    c = APIClient()
    c.cookies[settings.API_REFRESH_COOKIE] = signed_in.refresh_cookie
    r = c.post("/api/auth/refresh/sign-out", HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 204
    assert r.cookies[settings.API_REFRESH_COOKIE].value == ""
    assert _refresh(signed_in.refresh_cookie).status_code == 401
    assert signed_in.auth().get("/api/me").status_code == 401


def test_refresh_from_a_foreign_origin_is_refused(signed_in: SignedIn) -> None:
    assert _refresh(signed_in.refresh_cookie, origin="https://evil.example").status_code == 403
    assert _refresh(signed_in.refresh_cookie).status_code == 200  # the token was not spent


def test_refresh_without_or_with_garbage_cookie(db: Any, redis_api: Any) -> None:
    assert APIClient().post("/api/auth/refresh").json()["code"] == "refresh_missing"
    assert _refresh("not-a-jwt").json()["code"] == "refresh_invalid"


def test_an_access_token_is_not_a_refresh_token(signed_in: SignedIn) -> None:
    assert _refresh(signed_in.access).status_code == 401


def test_the_signing_key_fails_closed() -> None:
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY is not set"):
        jwt_key_check(key="", required=True)
    with pytest.raises(ImproperlyConfigured, match="at least 32 bytes"):
        jwt_key_check(key="short-key", required=False)
    jwt_key_check(key="k" * 32, required=True)
    jwt_key_check(key="", required=False)  # development: a key derived from SECRET_KEY


def test_production_settings_refuse_to_start_without_the_key(tmp_path: Any) -> None:
    import os
    import secrets
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SIGNING_KEY", "DJANGO_DEBUG")} | {
        "DJANGO_SETTINGS_MODULE": "tradebot.settings.base",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    }
    code = "import django; django.setup()"
    r = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "JWT_SIGNING_KEY is not set" in r.stderr, r.stderr[-600:]
    ok = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env | {"JWT_SIGNING_KEY": secrets.token_urlsafe(48)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
