"""Fail closed: a production start-up with a missing or weak signing secret stops at once.

"Production" is DEBUG off with a database of its own (``DATABASE_URL``): the embedded default of
``make run`` on a laptop keeps its development key, anything else must bring real secrets. Called
from the ``tradebot`` app's ``ready()`` (``tradebot/apps.py``), so web, workers, beat and every
command refuse to start.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_LENGTH = 50  # Django's own deploy check: >= 50 characters, >= 5 distinct
MIN_SECRET_UNIQUE = 5
DEV_SECRET_KEY = "dev-insecure-change-me"


MIN_JWT_KEY_LENGTH = 32  # HS256: at least the hash's 32 bytes (apps/api checks the same)


def secret_problem(value: str | None, *, min_length: int = MIN_SECRET_LENGTH) -> str | None:
    """Why ``value`` is not a usable signing secret, or ``None`` when it is."""
    if not value:
        return "is not set"
    if value == DEV_SECRET_KEY or value.startswith("django-insecure"):
        return "is not set (only the development placeholder)"
    if len(value) < min_length or len(set(value)) < MIN_SECRET_UNIQUE:
        return (
            f"is too short ({len(value)} characters, {len(set(value))} distinct; needs at least "
            f"{min_length} and {MIN_SECRET_UNIQUE} distinct)"
        )
    return None


def signing_secrets(settings: Any) -> list[tuple[str, str | None, int]]:
    """``(environment variable, value, minimum length)`` of every secret that signs something."""
    secrets: list[tuple[str, str | None, int]] = [
        ("DJANGO_SECRET_KEY", settings.SECRET_KEY, MIN_SECRET_LENGTH)
    ]
    if hasattr(settings, "JWT_SIGNING_KEY"):  # API sessions (apps/api): a key of their own
        secrets.append(("JWT_SIGNING_KEY", settings.JWT_SIGNING_KEY, MIN_JWT_KEY_LENGTH))
    return secrets


def check_secrets(settings: Any) -> None:
    """Raise ``ImproperlyConfigured`` with one clear message if a required secret is weak."""
    if not getattr(settings, "SECRETS_REQUIRED", False):
        return
    problems = [
        f"{name} {problem}"
        for name, value, min_length in signing_secrets(settings)
        if (problem := secret_problem(value, min_length=min_length))
    ]
    if problems:
        raise ImproperlyConfigured(
            "refusing to start: "
            + "; ".join(problems)
            + ". With DJANGO_DEBUG off and DATABASE_URL set this is a production start-up: "
            "set a long random value in .env, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )
