"""X (Twitter) v2 recent search with an app bearer token. Optional: skipped without a token.

The source's ``account`` holds the search query (e.g. ``$AAPL -is:retweet lang:en`` or
``from:Reuters``); the cursor is the newest tweet id seen (``since_id``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.news.sources.base import (
    FetchedItem,
    FetchResult,
    NewsSourceAdapter,
    SourceAuthError,
    SourceConfig,
    SourceConfigError,
    SourceHTTPError,
    SourceParseError,
    SourceSkipped,
)
from apps.news.sources.http import HttpLimits, bounded_get

SEARCH_PATH = "/2/tweets/search/recent"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_search(payload: dict[str, Any]) -> tuple[list[FetchedItem], str | None]:
    """Items and the newest id of a v2 search response (``data``, ``includes.users``, ``meta``)."""
    users = {
        u.get("id"): u.get("username", "") for u in payload.get("includes", {}).get("users", [])
    }
    items = []
    for tweet in payload.get("data") or []:
        tweet_id = str(tweet.get("id", ""))
        text = tweet.get("text") or ""
        if not tweet_id or not text:
            continue
        username = users.get(tweet.get("author_id")) or "i"
        items.append(
            FetchedItem(
                title=text,
                url=f"https://x.com/{username}/status/{tweet_id}",
                published_at=_parse_time(tweet.get("created_at")),
            )
        )
    newest = payload.get("meta", {}).get("newest_id")
    return items, str(newest) if newest else None


class XSource(NewsSourceAdapter):
    kind = "x"

    def fetch(self, config: SourceConfig) -> FetchResult:
        if not settings.X_BEARER_TOKEN:
            raise SourceSkipped("X: X_BEARER_TOKEN not set (optional source)")
        if not config.account:
            raise SourceConfigError("X source has no query (the 'account' field)")
        params = {
            "query": config.account,
            "max_results": str(max(10, min(100, settings.NEWS_MAX_ITEMS_PER_POLL))),
            "tweet.fields": "created_at,author_id,lang",
            "expansions": "author_id",
            "user.fields": "username",
        }
        if config.cursor:
            params["since_id"] = config.cursor
        try:
            body = bounded_get(
                settings.X_API_URL.rstrip("/") + SEARCH_PATH,
                limits=HttpLimits.from_settings(),
                headers={"Authorization": f"Bearer {settings.X_BEARER_TOKEN}"},
                params=params,
            )
        except SourceHTTPError as exc:
            if exc.status in (401, 403):
                raise SourceAuthError(f"X refused the bearer token: {exc}") from exc
            raise
        try:
            payload = json.loads(body.content)
        except ValueError as exc:
            raise SourceParseError(f"X answered something that is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise SourceParseError("X answered JSON that is not an object")
        items, newest = parse_search(payload)
        return FetchResult(items=tuple(items), cursor=newest)
