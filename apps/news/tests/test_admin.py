"""Admin actions on news sources."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from apps.news.models import NewsSource


@pytest.mark.django_db
def test_reset_backoff_and_poll_now_actions(admin_client, redis_conn):
    source = NewsSource.objects.create(
        name="Backed off",
        kind="rss",
        url="http://127.0.0.1:9/x",
        consecutive_errors=3,
        backoff_until=timezone.now(),
        last_error="timeout: slow",
    )
    url = "/admin/news/newssource/"

    response = admin_client.post(url, {"action": "reset_backoff", "_selected_action": [source.pk]})
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.consecutive_errors, source.backoff_until, source.last_error) == (0, None, "")

    admin_client.post(url, {"action": "poll_now", "_selected_action": [source.pk]})
    queued = [json.loads(m) for m in redis_conn.lrange("news", 0, -1)]
    assert [m["headers"]["task"] for m in queued] == ["news.poll_source"]
    assert queued[0]["headers"]["argsrepr"] == f"({source.pk},)"


@pytest.mark.django_db
def test_source_admin_pages_render(admin_client):
    assert admin_client.get("/admin/news/newssource/").status_code == 200
    source = NewsSource.objects.create(name="Page", kind="x", account="$AAPL")
    assert admin_client.get(f"/admin/news/newssource/{source.pk}/change/").status_code == 200
