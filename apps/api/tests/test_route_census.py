"""Every route refuses without a valid JWT, except sign-in (/api/auth/*, the admin's passkey
sign-in), /metrics, /healthz and the dashboard's static shell (url name ``dashboard``: index.html
for ``/`` and the client-side routes, no data). The test walks the URL resolver, so a new route is covered the
day it is added, and sends each one no token, an expired token, a forged signature and alg:none."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from apps.api.tests.conftest import SignedIn

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Public by design: signing in (API and admin), the process's metrics and health.
EXEMPT = re.compile(r"^/(api/auth/|auth/webauthn/|admin/login/|admin/logout/|metrics$|healthz$)")
SAMPLE = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, str | None]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def _concrete(route: str) -> str:
    """A path that matches the route: converters and regex groups get a sample value."""
    path = re.sub(r"\(\?P<ticker>[^)]*\)", "AAPL", route)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    path = re.sub(r"\(\?:[^)]*\)\??", "", path)
    return "/" + path


def routes() -> list[str]:
    from tradebot.dashboard import ROUTES

    out: set[str] = set()
    for route, name in _walk(get_resolver().url_patterns):
        if name == "dashboard":  # one regex for "/" and each client-side route
            out |= {"/", *(f"/{r}" for r in ROUTES)}
        else:
            out.add(_concrete(route))
    return sorted(out)


def is_exempt(path: str) -> bool:
    return bool(EXEMPT.match(path)) or resolve(path).url_name == "dashboard"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_tokens(user_id: int, family: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"token_type": "access", "user_id": str(user_id), "jti": "x" * 32, "fam": family}
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return {
        "expired": jwt.encode(
            {**claims, "iat": now - 900, "exp": now - 600}, key, algorithm="HS256"
        ),
        "forged": jwt.encode(
            {**claims, "iat": now, "exp": now + 300},
            "another-key-of-at-least-32-bytes!!",
            algorithm="HS256",
        ),
        "alg_none": _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({**claims, "iat": now, "exp": now + 300})
        + ".",
    }


def refused(status: int, location: str) -> bool:
    return status in (401, 403) or (status == 302 and location.startswith("/admin/login/"))


def test_every_route_refuses_without_a_valid_token(signed_in: SignedIn) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    family = str(AccessToken(signed_in.access)["fam"])
    tokens: dict[str, str | None] = {"none": None, **bad_tokens(signed_in.user.pk, family)}
    census = routes()
    guarded = [r for r in census if not is_exempt(r)]
    assert len(guarded) >= 35, census  # the API alone has more routes than that
    accepted: list[str] = []
    for path in guarded:
        for name, token in tokens.items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            client = Client(enforce_csrf_checks=True)
            for method in METHODS:
                r = getattr(client, method)(path, **headers)
                if not refused(r.status_code, r.headers.get("Location", "")):
                    accepted.append(f"{method.upper()} {path} [{name}] -> {r.status_code}")
    assert not accepted, "\n".join(accepted)
    # The valid token is accepted (the refusals above are about the token, not the route).
    ok = Client().get("/api/portfolio", HTTP_AUTHORIZATION=f"Bearer {signed_in.access}")
    assert ok.status_code == 200
    print(
        f"route census: {len(census)} routes, {len(guarded)} guarded, all refused x {len(tokens)} tokens"
    )


def test_the_exempt_routes_are_only_sign_in_metrics_and_health() -> None:
    exempt = [r for r in routes() if EXEMPT.match(r)]
    assert all(
        r.startswith(("/api/auth/", "/auth/webauthn/", "/admin/login/", "/admin/logout/"))
        or r in ("/metrics", "/healthz")
        for r in exempt
    ), exempt
