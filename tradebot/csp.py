"""The dashboard's security headers (no Django imports: settings reference this module)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

LIGHTWEIGHT_CHARTS_LOGO_STYLE = "sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY="

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The one inline <style> allowed, by hash: lightweight-charts' attribution logo (its
        # licence asks for the logo). frontend/scripts/check-csp-hash.mjs keeps it in step.
        f"style-src 'self' '{LIGHTWEIGHT_CHARTS_LOGO_STYLE}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def whitenoise_headers(headers: Any, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION: the build's files get the same policy; hashed
    assets are immutable."""
    if path.startswith(_dist()):
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        if url.startswith("/assets/"):
            headers["Cache-Control"] = "public, max-age=31536000, immutable"


def _dist() -> str:
    return str(settings.DASHBOARD_DIST)
