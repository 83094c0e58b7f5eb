"""The path of a new user, end to end: the command prints a link, a software authenticator
registers a passkey and signs in, the portfolio answers, the refresh rotates, a force-close without
step-up is refused and with it places exactly one order."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.api.tests.conftest import ORIGIN, SoftPasskey, link_token, login, register
from apps.api.tests.test_overrides import _open_position

pytestmark = pytest.mark.django_db


def test_a_new_user_from_link_to_one_forced_close(
    redis_api: Any, settings: Any, capsys: Any
) -> None:
    from apps.execution.models import Trade

    settings.BROKER_KIND = "simulated"
    call_command("passkey_link", "newuser")
    url = next(line for line in capsys.readouterr().out.splitlines() if "/register?token=" in line)
    authenticator = SoftPasskey()
    assert register(APIClient(), link_token(url), authenticator).status_code == 201

    signed = login(APIClient(), authenticator)
    assert signed.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {signed.json()['access']}")
    assert api.get("/api/portfolio").status_code == 200

    browser = APIClient()
    browser.cookies[settings.API_REFRESH_COOKIE] = signed.cookies[settings.API_REFRESH_COOKIE].value
    rotated = browser.post("/api/auth/refresh", HTTP_ORIGIN=ORIGIN)
    assert rotated.status_code == 200
    assert (
        rotated.cookies[settings.API_REFRESH_COOKIE].value
        != signed.cookies[settings.API_REFRESH_COOKIE].value
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.json()['access']}")

    _open_position("AAPL", "10")
    close = "/api/control/positions/AAPL/close"
    refused = api.post(close, HTTP_IDEMPOTENCY_KEY="first-close-0001")
    assert refused.status_code == 403
    assert not Trade.objects.filter(purpose="exit").exists()

    begin = api.post(
        "/api/step-up/begin", {"action": "force_close", "target": "AAPL"}, format="json"
    )
    grant = api.post(
        "/api/step-up/complete",
        {
            "ceremony_id": begin.json()["ceremony_id"],
            "credential": authenticator.get(begin.json()["options"]),
        },
        format="json",
    ).json()["step_up_token"]
    done = api.post(close, HTTP_IDEMPOTENCY_KEY="first-close-0001", HTTP_X_STEP_UP=grant)
    assert done.status_code == 202, done.content
    assert api.post(close, HTTP_IDEMPOTENCY_KEY="first-close-0001").status_code == 202
    assert Trade.objects.filter(purpose="exit", ticker="AAPL").count() == 1
