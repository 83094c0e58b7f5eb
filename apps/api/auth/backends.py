"""No passwords: Django's model backend is kept for permissions only and never authenticates."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class PermissionsOnlyBackend(ModelBackend):
    """Answers ``has_perm`` for the admin; refuses every username/password sign-in."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **credentials: Any
    ) -> AbstractBaseUser | None:
        return None
