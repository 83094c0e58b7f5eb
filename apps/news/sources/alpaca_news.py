"""Alpaca News through alpaca-py's ``NewsClient`` (``ALPACA_DATA_URL`` overrides the base URL).

Skipped without API keys. The cursor is the newest ``created_at`` taken; symbols come from the
source's ``options["symbols"]`` or ``TRADING_SYMBOLS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.news import NewsClient
from alpaca.data.requests import NewsRequest
from django.conf import settings

from apps.core.clock import wall_now
from apps.news.sources.base import (
    FetchedItem,
    FetchResult,
    NewsSourceAdapter,
    SourceAuthError,
    SourceConfig,
    SourceHTTPError,
    SourceNetworkError,
    SourceParseError,
    SourceSkipped,
    SourceTimeout,
)
from apps.news.sources.http import guarded_session


def news_client() -> NewsClient:
    if not (settings.ALPACA_API_KEY and settings.ALPACA_SECRET_KEY):
        raise SourceSkipped("Alpaca News: ALPACA_API_KEY / ALPACA_SECRET_KEY not set")
    client = NewsClient(
        api_key=settings.ALPACA_API_KEY,
        secret_key=settings.ALPACA_SECRET_KEY,
        url_override=settings.ALPACA_DATA_URL or None,
    )
    # alpaca-py sends without a timeout; the guarded session bounds every request by the news
    # timeout and the poll's deadline, checks the address of every hop and caps the body.
    client._session = guarded_session()
    return client


class AlpacaNewsSource(NewsSourceAdapter):
    kind = "alpaca"

    def fetch(self, config: SourceConfig) -> FetchResult:
        client = news_client()
        try:
            return self._fetch(config, client)
        finally:
            client._session.close()

    def _fetch(self, config: SourceConfig, client: NewsClient) -> FetchResult:
        symbols = config.options.get("symbols") or settings.TRADING_SYMBOLS
        since = datetime.fromisoformat(config.cursor) if config.cursor else None
        request = NewsRequest(
            symbols=",".join(symbols) if symbols else None,
            start=since or wall_now() - timedelta(days=1),
            limit=min(50, settings.NEWS_MAX_ITEMS_PER_POLL),
            sort="desc",
        )
        try:
            news_set: Any = client.get_news(request)
        except APIError as exc:
            status = exc.status_code
            if status in (401, 403):
                raise SourceAuthError(f"Alpaca refused the API keys (HTTP {status})") from exc
            raise SourceHTTPError(f"Alpaca answered HTTP {status}: {exc}", status=status) from exc
        except requests.Timeout as exc:
            raise SourceTimeout(f"Alpaca News timed out: {exc}") from exc
        except requests.RequestException as exc:
            raise SourceNetworkError(f"Alpaca News unreachable: {type(exc).__name__}") from exc
        except (ValueError, TypeError) as exc:  # pydantic validation of an odd body
            raise SourceParseError(f"Alpaca News answered an unexpected body: {exc}") from exc
        items = []
        newest = since
        for news in news_set.data.get("news", []):
            created = news.created_at
            if since and created <= since:
                continue
            newest = max(newest, created) if newest else created
            items.append(
                FetchedItem(
                    title=news.headline,
                    url=news.url or "",
                    summary=news.summary or "",
                    published_at=created,
                    tickers=tuple(news.symbols or ()),
                )
            )
        return FetchResult(items=tuple(items), cursor=newest.isoformat() if newest else None)
