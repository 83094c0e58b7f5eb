"""Short-lived API state in Redis: ceremonies, step-up grants, WebSocket tickets, revoked families."""

from __future__ import annotations

import json
import secrets
from typing import Any, cast

import redis

from apps.core.redis_client import redis_client as _client


def redis_client() -> redis.Redis:
    """The one Redis client of the project (per thread, retrying on dropped connections)."""
    return _client()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def put(key: str, value: dict[str, Any], *, ttl_s: int) -> None:
    redis_client().set(key, json.dumps(value), ex=ttl_s)


def take(key: str) -> dict[str, Any] | None:
    """Read and delete in one step (GETDEL): a value can be used once, never twice."""
    raw = cast("bytes | None", redis_client().getdel(key))
    return None if raw is None else cast("dict[str, Any]", json.loads(raw))
