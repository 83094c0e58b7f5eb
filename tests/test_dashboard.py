"""The web process serves the dashboard's build at "/" with a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings

from tradebot import dashboard


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(
        '<!doctype html><title>tradebot</title><div id="root"></div>'
        '<script type="module" src="/assets/index-abc.js"></script>'
    )
    dashboard._cache.clear()
    return tmp_path


@pytest.mark.parametrize("url", ["/", "/trades", "/backtests/", "/register"])
def test_index_and_client_routes_carry_the_policy(client: Client, dist: Path, url: str) -> None:
    with override_settings(DASHBOARD_DIST=str(dist)):
        response = client.get(url)
    assert response.status_code == 200
    assert b'<div id="root">' in response.content
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["Referrer-Policy"] == "no-referrer"


def test_unknown_paths_are_not_the_dashboard(client: Client, dist: Path) -> None:
    with override_settings(DASHBOARD_DIST=str(dist)):
        assert client.get("/nope").status_code == 404


def test_missing_build_says_how_to_build(client: Client, tmp_path: Path) -> None:
    dashboard._cache.clear()
    with override_settings(DASHBOARD_DIST=str(tmp_path / "missing")):
        response = client.get("/")
    assert response.status_code == 503
    assert b"npm run build" in response.content
    assert "Content-Security-Policy" in response


def test_static_build_files_get_the_policy_and_immutable_caching(dist: Path) -> None:
    headers: dict[str, str] = {}
    with override_settings(DASHBOARD_DIST=str(dist)):
        from tradebot.csp import whitenoise_headers

        whitenoise_headers(headers, str(dist / "assets" / "index-abc.js"), "/assets/index-abc.js")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "immutable" in headers["Cache-Control"]
