"""OpenAPI extensions: the Bearer JWT scheme of the API's authentication class."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTFamilyScheme(OpenApiAuthenticationExtension):
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


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every API operation documents the errors it can answer with: 400 when
    it takes parameters or a body, 401/403 when it needs a token, 404 when its path has parameters.
    All use the one error shape (``Error``)."""
    ref = {"$ref": "#/components/schemas/Error"}
    error = {"description": "error", "content": {"application/json": {"schema": ref}}}
    for path, item in (result.get("paths") or {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            wanted: list[str] = []
            if op.get("parameters") or op.get("requestBody"):
                wanted.append("400")
            if op.get("security") != [] and not path.startswith("/api/auth/"):
                wanted += ["401", "403"]
            names = {p.get("name") for p in op.get("parameters") or []}
            # path ids; ceremony ids; a cursor that points nowhere (DRF: "Invalid cursor")
            if "{" in path or path.endswith("/complete") or "cursor" in names:
                wanted.append("404")
            for code in wanted:
                responses.setdefault(code, error)
    return result
