"""API test fixtures: a software passkey (soft-fido2), a signed-in client, step-up helpers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import redis as redis_lib
from django.conf import settings
from rest_framework.test import APIClient
from soft_fido2 import Fido2Authenticator

ORIGIN = "http://localhost:5173"


@pytest.fixture(autouse=True)
def _api_settings(settings: Any) -> None:
    settings.DASHBOARD_ORIGIN = ORIGIN
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]
    settings.OTP_WEBAUTHN_RP_ID = "localhost"


@pytest.fixture
def redis_api(redis_conn: redis_lib.Redis) -> redis_lib.Redis:
    return redis_conn


class SoftPasskey:
    """A software authenticator held by the test, answering the API's options JSON."""

    def __init__(self) -> None:
        self.device = Fido2Authenticator()

    def create(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        opts = copy.deepcopy(options)
        opts["origin"] = origin
        cred = self.device.credential_create(opts, atteStmtFmt="none", uv=True)
        return _credential_json(cred, registration=True)

    def get(self, options: dict[str, Any], origin: str = ORIGIN, uv: bool = True) -> dict[str, Any]:
        opts = copy.deepcopy(options)
        opts["origin"] = origin
        cred = self.device.credential_request(opts, uv=uv)
        return _credential_json(cred, registration=False)


def _credential_json(cred: dict[str, Any], *, registration: bool) -> dict[str, Any]:
    """soft-fido2's dict as the JSON @simplewebauthn/browser would send (base64url, no padding)."""

    def b64(value: str) -> str:
        return value.replace("+", "-").replace("/", "_").rstrip("=")

    response = {k: b64(v) if isinstance(v, str) else v for k, v in cred["response"].items()}
    out: dict[str, Any] = {
        "id": b64(cred["id"]),
        "rawId": b64(cred["rawId"]),
        "type": "public-key",
        "response": response,
        "clientExtensionResults": {},
    }
    if registration:
        out["response"]["transports"] = ["internal"]
        out["authenticatorAttachment"] = "platform"
    return out


@dataclass
class SignedIn:
    client: APIClient
    user: Any
    passkey: SoftPasskey
    access: str
    refresh_cookie: str
    link_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def auth(self, access: str | None = None) -> APIClient:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {access or self.access}")
        return c

    def step_up(self, action: str, target: str = "") -> str:
        c = self.auth()
        begin = c.post("/api/step-up/begin", {"action": action, "target": target}, format="json")
        assert begin.status_code == 200, begin.content
        cred = self.passkey.get(begin.json()["options"])
        done = c.post(
            "/api/step-up/complete",
            {"ceremony_id": begin.json()["ceremony_id"], "credential": cred},
            format="json",
        )
        assert done.status_code == 200, done.content
        return str(done.json()["step_up_token"])


def link_token(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def register(client: APIClient, token: str, passkey: SoftPasskey) -> Any:
    begin = client.post("/api/auth/register/begin", {"token": token}, format="json")
    assert begin.status_code == 200, begin.content
    cred = passkey.create(begin.json()["options"])
    return client.post(
        "/api/auth/register/complete",
        {"ceremony_id": begin.json()["ceremony_id"], "credential": cred, "name": "test key"},
        format="json",
    )


def login(client: APIClient, passkey: SoftPasskey) -> Any:
    begin = client.post("/api/auth/login/begin", format="json")
    assert begin.status_code == 200, begin.content
    cred = passkey.get(begin.json()["options"])
    return client.post(
        "/api/auth/login/complete",
        {"ceremony_id": begin.json()["ceremony_id"], "credential": cred},
        format="json",
    )


@pytest.fixture
def signed_in(db: Any, redis_api: redis_lib.Redis) -> Iterator[SignedIn]:
    from apps.api.auth.passkeys import registration_link_issue

    user, url = registration_link_issue(username="alice")
    passkey = SoftPasskey()
    client = APIClient()
    r = register(client, link_token(url), passkey)
    assert r.status_code == 201, r.content
    yield SignedIn(
        client=client,
        user=user,
        passkey=passkey,
        access=r.json()["access"],
        refresh_cookie=r.cookies[settings.API_REFRESH_COOKIE].value,
        link_token=link_token(url),
    )
