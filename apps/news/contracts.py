"""Payloads of the news stage (stream ``news:raw``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core.contracts import Contract


@dataclass(frozen=True, slots=True)
class RawArticle(Contract):
    """An article stored by the news stage, waiting to be scored."""

    TYPE = "news.raw"
    VERSION = 1

    article_id: int
    source: str
    url: str
    title: str
    content_hash: str
    fetched_at: datetime
    published_at: datetime | None = None
    summary: str = ""
    tickers: tuple[str, ...] = ()
