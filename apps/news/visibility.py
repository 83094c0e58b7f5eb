"""Point-in-time news: when an article may first count for a decision (one rule, live and
backtest).

An article is stamped with its ``published_at`` (``fetched_at`` when the source gave no date) and
becomes visible ``latency_s`` later (``NEWS_VISIBLE_AFTER_S``: the time a real pipeline needs to
fetch and score it). A decision at ``at`` sees exactly the articles with ``stamp + latency <= at``,
and ages each from its visibility. The text scored is the sentiment stage's
(:func:`apps.sentiment.pipeline.article_text`), in both paths.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def news_stamp(*, published_at: datetime | None, fetched_at: datetime | None) -> datetime | None:
    """The time an article is stamped with (None when it has neither date)."""
    return published_at if published_at is not None else fetched_at


def news_visible_at(
    *, published_at: datetime | None, fetched_at: datetime | None, latency_s: float
) -> datetime | None:
    """When the article may first count for a decision."""
    stamp = news_stamp(published_at=published_at, fetched_at=fetched_at)
    return None if stamp is None else stamp + timedelta(seconds=latency_s)


def news_cutoff(*, at: datetime, latency_s: float) -> datetime:
    """Stamps at or before this are visible to a decision at ``at``."""
    return at - timedelta(seconds=latency_s)
