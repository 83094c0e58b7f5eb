"""OpenAPI extensions: the Bearer JWT scheme of the API's authentication class."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTFamilyScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
    target_class = "apps.api.auth.authentication.JWTFamilyAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token (<= 5 minutes) from /api/auth/login/complete or "
            "/api/auth/refresh; keep it in memory only.",
        }
