"""The dashboard (frontend/, a Vite build) served by the web process on the API's origin.

WhiteNoise serves the hashed files under ``/assets/`` from ``frontend/dist``
(``WHITENOISE_ROOT``); this view answers ``/`` and the app's client-side routes with
``index.html``. Every response from the build carries a strict Content-Security-Policy:
scripts, styles and connections only from this origin, nothing inline, no framing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tradebot.csp import SECURITY_HEADERS

# The app's client-side routes (react-router); each loads the same index.html.
ROUTES = ("trades", "strategies", "news", "backtests", "account", "signin", "register")

_cache: dict[str, tuple[float, bytes]] = {}


def dist_dir() -> Path:
    return Path(settings.DASHBOARD_DIST)


def _index() -> bytes | None:
    path = dist_dir() / "index.html"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    hit = _cache.get("index")
    if hit is None or hit[0] != mtime:
        hit = (mtime, path.read_bytes())
        _cache["index"] = hit
    return hit[1]


def dashboard(request: HttpRequest, **_: Any) -> HttpResponse:
    body = _index()
    if body is None:
        response = HttpResponse(
            "The dashboard is not built. Run `make run` (it builds it when npm is available) "
            "or `cd frontend && npm ci && npm run build`.\n",
            content_type="text/plain; charset=utf-8",
            status=503,
        )
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "no-cache"
    for name, value in SECURITY_HEADERS.items():
        response[name] = value
    return response
