from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_JWT_KEY_BYTES = 32


def jwt_key_check(*, key: str, required: bool) -> None:
    """Fail closed: a production config needs a JWT signing key of >= 32 bytes from the environment."""
    if key and len(key.encode()) < MIN_JWT_KEY_BYTES:
        raise ImproperlyConfigured(
            f"JWT_SIGNING_KEY is {len(key.encode())} bytes; it must be at least "
            f"{MIN_JWT_KEY_BYTES} bytes (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    if required and not key:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY is not set. A production config (DJANGO_DEBUG off, DATABASE_URL set) "
            "signs API sessions with a key of at least 32 bytes from the environment: set "
            "JWT_SIGNING_KEY (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        jwt_key_check(key=settings.JWT_SIGNING_KEY, required=settings.SECRETS_REQUIRED)
        # Django: these import models, so they load once the app registry is ready.
        from apps.api import schema  # noqa: F401, PLC0415 - OpenAPI extensions (the JWT scheme)
        from apps.api.auth import admin_site  # noqa: PLC0415 - Django: after the registry is ready
        from apps.api.metrics import register_business_collector  # noqa: PLC0415 - Django: as above

        admin_site.install()
        register_business_collector()
