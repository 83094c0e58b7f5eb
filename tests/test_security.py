"""Production start-up fails closed on a missing, short or placeholder signing secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from tradebot.security import DEV_SECRET_KEY, check_secrets, secret_problem

ROOT = Path(__file__).resolve().parent.parent
STRONG = "k3Y-" + "abcdefghij" * 5


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check` as a production process would start (servers unreachable on purpose)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    base.update(
        DJANGO_SETTINGS_MODULE="tradebot.settings.base",
        DATABASE_URL="postgres://tradebot@127.0.0.1:1/tradebot",
        REDIS_URL="redis://127.0.0.1:1/0",
        TRADEBOT_DATA_DIR=str(ROOT / ".data"),
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_start_refuses_a_missing_secret_key() -> None:
    result = _start(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "refusing to start: DJANGO_SECRET_KEY is not set" in result.stderr
    assert "token_urlsafe" in result.stderr  # says how to make one


def test_production_start_accepts_strong_secrets() -> None:
    # The API's JWT key must come from the environment too (apps/api/apps.py).
    result = _start(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG[::-1])
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is not set"),
        ("", "is not set"),
        (DEV_SECRET_KEY, "not set (only the development placeholder)"),
        ("django-insecure-" + "x" * 60, "development placeholder"),
        ("short-secret", "too short (12 characters"),
        ("a" * 80, "5 distinct"),
        (STRONG, None),
    ],
)
def test_secret_problem(value: str | None, problem: str | None) -> None:
    found = secret_problem(value)
    assert (found is None) if problem is None else (problem in (found or ""))


def _settings(**extra: object) -> SimpleNamespace:
    return SimpleNamespace(**{"SECRETS_REQUIRED": True, "SECRET_KEY": STRONG, **extra})


def test_jwt_signing_key_is_checked_in_the_same_start_up_check() -> None:
    check_secrets(_settings())  # no API installed: only the Django key
    check_secrets(_settings(JWT_SIGNING_KEY="j" + "0123456789abcdef" * 2))  # 33 characters
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY is too short"):
        check_secrets(_settings(JWT_SIGNING_KEY="jwt"))
    with pytest.raises(
        ImproperlyConfigured, match="DJANGO_SECRET_KEY is not set; JWT_SIGNING_KEY is not set"
    ):
        check_secrets(_settings(SECRET_KEY="", JWT_SIGNING_KEY=""))


def test_debug_or_embedded_database_keeps_the_development_key() -> None:
    check_secrets(SimpleNamespace(SECRETS_REQUIRED=False, SECRET_KEY=DEV_SECRET_KEY))
