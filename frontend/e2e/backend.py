"""Backend chores for the dashboard's end-to-end test (frontend/e2e/run.mjs).

``python frontend/e2e/backend.py createdb``  drop and create the e2e database named by DATABASE_URL
``python frontend/e2e/backend.py flushredis``  empty the Redis database named by REDIS_URL
``python frontend/e2e/backend.py wait-event TYPE TEXT``  wait for an event in the API's event log
``python frontend/e2e/backend.py seed``      a scored article whose title is an HTML injection attempt
"""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"


def createdb() -> None:
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not name.endswith("_e2e"):
        raise SystemExit(f"refusing to recreate {name!r}: the e2e database name must end in _e2e")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"e2e database {name} created")


def flushredis() -> None:
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    print("e2e redis database flushed")


def wait_event(kind: str, text: str) -> None:
    """Wait until the API's event log (Redis stream ``api:events``) holds a ``kind`` event whose
    data mentions ``text`` (the bridge notices state changes within a few seconds)."""
    import time

    import redis

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for _, fields in r.xrevrange("api:events", count=50) or []:
            got = {
                str(k, "utf-8") if isinstance(k, bytes) else k: v for k, v in (fields or {}).items()
            }
            data = got.get("data") or b""
            data = data if isinstance(data, bytes) else data.encode()
            if got.get("type") in (kind, kind.encode()) and text.encode() in data:
                print(f"event {kind} is in the log")
                return
        time.sleep(0.2)
    raise SystemExit(f"no {kind} event mentioning {text!r} within 60 s")


def seed() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradebot.settings.base")
    import django

    django.setup()
    from apps.news.models import Article, ArticleSentiment, NewsSource

    source, _ = NewsSource.objects.get_or_create(
        name="e2e wire", defaults={"kind": NewsSource.Kind.REPLAY}
    )
    now = datetime(2015, 9, 2, 14, 0, tzinfo=UTC)
    article, _ = Article.objects.get_or_create(
        content_hash=hashlib.sha256(HOSTILE_TITLE.encode()).hexdigest(),
        defaults={
            "source": source,
            "title": HOSTILE_TITLE,
            "summary": "<script>alert(2)</script>",
            "url": "",
            "published_at": now,
            "fetched_at": now,
            "tickers": ["AAPL"],
        },
    )
    ArticleSentiment.objects.get_or_create(
        article=article,
        ticker="AAPL",
        defaults={"score": 0.42, "confidence": 0.9, "model_used": "vader@e2e", "tier": 1},
    )
    print(f"seeded article {article.pk}")


if __name__ == "__main__":
    if sys.argv[1] == "wait-event":
        wait_event(sys.argv[2], sys.argv[3])
    else:
        {"createdb": createdb, "flushredis": flushredis, "seed": seed}[sys.argv[1]]()
