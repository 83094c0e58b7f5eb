"""Schemathesis against the ASGI app, from the committed OpenAPI document, with every check on
(server errors, status codes, content types, headers, response schemas, positive and negative
data, missing headers, unsupported methods, ignored auth, use after free, resource availability).

Kept modest for `make test`: a few examples per operation (SCHEMATHESIS_EXAMPLES raises it), and
one signed-in user for the whole module (committed, removed at the end) instead of a database
flush per operation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks

from tradebot.asgi import application

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))

load_all_checks()
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
schema.app = application  # in-process: requests go straight to the ASGI app


@pytest.fixture(scope="module")
def bearer(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Callable[[], str]]:
    """A fresh access token per request (no expiry mid-run) for a user signed in with a passkey."""
    from django.conf import settings as dj

    from apps.api.auth.passkeys import registration_link_issue
    from apps.api.auth.tokens import FAMILY_CLAIM
    from apps.api.tests.conftest import SoftPasskey, link_token, register
    from apps.backtests.models import BacktestRun

    with django_db_blocker.unblock():
        from django.db import connection

        assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict[
            "NAME"
        ]
        dj.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost:5173"]
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient
        from rest_framework_simplejwt.tokens import AccessToken

        get_user_model().objects.filter(username="schemathesis").delete()
        last_run = BacktestRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
        user, url = registration_link_issue(username="schemathesis")
        r = register(APIClient(), link_token(url), SoftPasskey())
        assert r.status_code == 201, r.content
        family = AccessToken(r.json()["access"])[FAMILY_CLAIM]

        def token() -> str:
            t = AccessToken.for_user(user)
            t[FAMILY_CLAIM] = family
            return str(t)

        try:
            yield token
        finally:
            BacktestRun.objects.filter(id__gt=last_run).delete()
            user.delete()


@pytest.mark.django_db  # the test DB; the app's own threads commit (cleaned up by `bearer`)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, bearer: Callable[[], str]) -> None:
    case.call_and_validate(
        base_url="http://localhost", headers={"Authorization": f"Bearer {bearer()}"}
    )
