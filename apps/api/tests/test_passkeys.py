"""The whole passkey flow in pure Python with a software authenticator (soft-fido2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.api.tests.conftest import SignedIn, SoftPasskey, link_token, login, register

pytestmark = pytest.mark.django_db


def test_registration_link_command_prints_a_one_time_link(redis_api: Any, capsys: Any) -> None:
    call_command("passkey_link", "bob")
    out = capsys.readouterr().out
    url = next(line for line in out.splitlines() if line.startswith("http"))
    assert url.startswith(f"{settings.DASHBOARD_ORIGIN}/register?token=")
    user = get_user_model().objects.get(username="bob")
    assert not user.has_usable_password()
    passkey = SoftPasskey()
    first = register(APIClient(), link_token(url), passkey)
    assert first.status_code == 201, first.content
    again = APIClient().post("/api/auth/register/begin", {"token": link_token(url)}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_link"


def test_register_sign_in_and_read_the_portfolio(signed_in: SignedIn) -> None:
    me = signed_in.auth().get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    r = login(APIClient(), signed_in.passkey)
    assert r.status_code == 200, r.content
    cookie = r.cookies[settings.API_REFRESH_COOKIE]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/auth/refresh"
    portfolio = signed_in.auth(r.json()["access"]).get("/api/portfolio")
    assert portfolio.status_code == 200, portfolio.content
    assert "value" in portfolio.json()


def test_a_replayed_assertion_is_rejected(signed_in: SignedIn) -> None:
    client = APIClient()
    begin = client.post("/api/auth/login/begin", format="json").json()
    cred = signed_in.passkey.get(begin["options"])
    ok = client.post(
        "/api/auth/login/complete",
        {"ceremony_id": begin["ceremony_id"], "credential": cred},
        format="json",
    )
    assert ok.status_code == 200
    replay = client.post(
        "/api/auth/login/complete",
        {"ceremony_id": begin["ceremony_id"], "credential": cred},
        format="json",
    )
    assert replay.status_code == 404
    assert replay.json()["code"] == "invalid_state"
    # The same assertion under a fresh ceremony fails too: its challenge is not the new one.
    fresh = client.post("/api/auth/login/begin", format="json").json()
    again = client.post(
        "/api/auth/login/complete",
        {"ceremony_id": fresh["ceremony_id"], "credential": cred},
        format="json",
    )
    assert again.status_code == 401


def test_a_sign_count_regression_is_rejected(signed_in: SignedIn) -> None:
    assert login(APIClient(), signed_in.passkey).status_code == 200
    assert login(APIClient(), signed_in.passkey).status_code == 200
    signed_in.passkey.device.counter = 1  # a cloned authenticator lags behind the stored count
    r = login(APIClient(), signed_in.passkey)
    assert r.status_code == 401, r.content
    assert r.json()["code"] == "invalid_authentication_response"
    # Control: the same authenticator with a counter ahead of the stored one signs in again.
    signed_in.passkey.device.counter = 100
    assert login(APIClient(), signed_in.passkey).status_code == 200


def test_an_assertion_for_another_origin_is_rejected(signed_in: SignedIn) -> None:
    client = APIClient()
    begin = client.post("/api/auth/login/begin", format="json").json()
    cred = signed_in.passkey.get(begin["options"], origin="https://evil.example")
    r = client.post(
        "/api/auth/login/complete",
        {"ceremony_id": begin["ceremony_id"], "credential": cred},
        format="json",
    )
    assert r.status_code == 401


def test_an_unknown_passkey_cannot_sign_in(signed_in: SignedIn) -> None:
    assert login(APIClient(), SoftPasskey()).status_code == 401


def test_step_up_is_bound_to_its_action_and_used_once(signed_in: SignedIn) -> None:
    c = signed_in.auth()
    pause_grant = signed_in.step_up("pause")
    # A grant for "pause" does not resume.
    r = c.post(
        "/api/control/resume", HTTP_IDEMPOTENCY_KEY="resume-key-1", HTTP_X_STEP_UP=pause_grant
    )
    assert r.status_code == 403
    assert r.json()["code"] == "step_up_required"
    # A grant is single use: it was consumed by the refused request above.
    r = c.post(
        "/api/control/pause",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pause-key-1",
        HTTP_X_STEP_UP=pause_grant,
    )
    assert r.status_code == 403
    grant = signed_in.step_up("pause")
    r = c.post(
        "/api/control/pause",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pause-key-2",
        HTTP_X_STEP_UP=grant,
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "paused"


def test_step_up_requires_user_verification(signed_in: SignedIn) -> None:
    c = signed_in.auth()
    begin = c.post("/api/step-up/begin", {"action": "pause"}, format="json").json()
    assert begin["options"]["userVerification"] == "required"
    cred = signed_in.passkey.get(begin["options"], uv=False)
    r = c.post(
        "/api/step-up/complete",
        {"ceremony_id": begin["ceremony_id"], "credential": cred},
        format="json",
    )
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_authentication_response"


def test_step_up_of_another_user_is_refused(signed_in: SignedIn) -> None:
    from apps.api.auth.passkeys import registration_link_issue

    _, url = registration_link_issue(username="mallory")
    other = SoftPasskey()
    r = register(APIClient(), link_token(url), other)
    assert r.status_code == 201
    mallory = APIClient()
    mallory.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    grant_of_alice = signed_in.step_up("pause")
    r = mallory.post(
        "/api/control/pause",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="m-pause-1",
        HTTP_X_STEP_UP=grant_of_alice,
    )
    assert r.status_code == 403


def test_add_and_remove_passkeys(signed_in: SignedIn) -> None:
    c = signed_in.auth()
    second = SoftPasskey()
    begin = c.post("/api/passkeys/begin", format="json").json()
    done = c.post(
        "/api/passkeys/complete",
        {
            "ceremony_id": begin["ceremony_id"],
            "credential": second.create(begin["options"]),
            "name": "backup",
        },
        format="json",
    )
    assert done.status_code == 201, done.content
    keys = c.get("/api/passkeys").json()
    assert [k["name"] for k in keys] == ["test key", "backup"]
    assert login(APIClient(), second).status_code == 200
    assert c.delete(f"/api/passkeys/{keys[0]['id']}").status_code == 204
    assert login(APIClient(), signed_in.passkey).status_code == 401
    last = c.delete(f"/api/passkeys/{keys[1]['id']}")
    assert last.status_code == 409


def test_no_password_signs_in_anywhere(signed_in: SignedIn) -> None:
    from django.contrib.auth import authenticate

    user = signed_in.user
    user.refresh_from_db()
    assert not user.has_usable_password()
    user.set_password("hunter2hunter2")
    user.save()
    assert authenticate(username="alice", password="hunter2hunter2") is None
    r = APIClient().post("/admin/login/", {"username": "alice", "password": "hunter2hunter2"})
    assert r.status_code == 200  # the form again: not signed in
    assert "_auth_user_id" not in APIClient().session


def test_the_admin_signs_in_with_a_passkey_only(client: Any) -> None:
    page = client.get("/admin/login/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "passkey-verification-placeholder" in body
    assert "otp_webauthn_config" in body
    assert 'type="password"' not in body
