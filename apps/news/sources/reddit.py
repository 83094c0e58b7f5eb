"""Reddit through PRAW (script app, read-only): the newest submissions of one subreddit.

The cursor is the ``created_utc`` of the newest submission already taken, so a re-poll returns only
newer posts. PRAW talks through the news HTTP layer's guarded session (address check on every hop,
one deadline per poll, capped bodies). ``REDDIT_OAUTH_URL`` / ``REDDIT_URL`` point PRAW at another
server (tests' stand-in).
"""

from __future__ import annotations

from datetime import UTC, datetime

import praw
import prawcore
import requests
from django.conf import settings

from apps.news.sources.base import (
    FetchedItem,
    FetchResult,
    NewsSourceAdapter,
    SourceAuthError,
    SourceConfig,
    SourceConfigError,
    SourceError,
    SourceHTTPError,
    SourceNetworkError,
    SourceParseError,
    SourceSkipped,
    SourceTimeout,
)
from apps.news.sources.http import guarded_session


def reddit_client(session: requests.Session | None = None) -> praw.Reddit:
    """A read-only PRAW client from settings (raises :class:`SourceSkipped` without credentials).

    ``session``: the ``requests`` session PRAW talks through (a poll's :func:`guarded_session`).
    """
    if not (settings.REDDIT_CLIENT_ID and settings.REDDIT_CLIENT_SECRET):
        raise SourceSkipped("Reddit: REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET not set")
    return praw.Reddit(
        client_id=settings.REDDIT_CLIENT_ID,
        client_secret=settings.REDDIT_CLIENT_SECRET,
        user_agent=settings.REDDIT_USER_AGENT,
        oauth_url=settings.REDDIT_OAUTH_URL,
        reddit_url=settings.REDDIT_URL,
        short_url=settings.REDDIT_SHORT_URL,
        timeout=settings.NEWS_HTTP_TIMEOUT_S,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": session} if session is not None else None,
    )


def _translate(exc: Exception) -> SourceError:
    if isinstance(exc, prawcore.exceptions.OAuthException | prawcore.exceptions.Forbidden):
        return SourceAuthError(f"Reddit refused the credentials: {exc}")
    if isinstance(exc, prawcore.exceptions.BadJSON):
        return SourceParseError(f"Reddit answered an unexpected body: {exc}")
    if isinstance(exc, prawcore.exceptions.ResponseException):
        status = exc.response.status_code
        if status in (401, 403):
            return SourceAuthError(f"Reddit answered HTTP {status}")
        return SourceHTTPError(f"Reddit answered HTTP {status}", status=status)
    if isinstance(exc, prawcore.exceptions.RequestException):
        original = exc.original_exception
        if isinstance(original, SourceError):  # the guarded session's own verdict
            return original
        if isinstance(original, requests.Timeout):
            return SourceTimeout(f"Reddit timed out: {original}")
        return SourceNetworkError(f"Reddit unreachable: {type(original).__name__}: {original}")
    return SourceError(f"Reddit: {type(exc).__name__}: {exc}")


class RedditSource(NewsSourceAdapter):
    kind = "reddit"

    def fetch(self, config: SourceConfig) -> FetchResult:
        if not config.subreddit:
            raise SourceConfigError("Reddit source has no subreddit")
        session = guarded_session()  # the poll's one deadline starts here
        try:
            return self._fetch(config, reddit_client(session))
        finally:
            session.close()

    def _fetch(self, config: SourceConfig, reddit: praw.Reddit) -> FetchResult:
        since = float(config.cursor) if config.cursor else 0.0
        limit = int(config.options.get("limit", min(100, settings.NEWS_MAX_ITEMS_PER_POLL)))
        items: list[FetchedItem] = []
        newest = since
        try:
            for post in reddit.subreddit(config.subreddit).new(limit=limit):
                created = float(post.created_utc)
                if created <= since:
                    continue
                newest = max(newest, created)
                items.append(
                    FetchedItem(
                        title=post.title,
                        # The public address, whichever server PRAW talked to.
                        url=f"https://www.reddit.com{post.permalink}",
                        summary=post.selftext or "",
                        published_at=datetime.fromtimestamp(created, tz=UTC),
                    )
                )
        except (prawcore.exceptions.PrawcoreException, praw.exceptions.PRAWException) as exc:
            raise _translate(exc) from exc
        except ValueError as exc:  # a body that is not Reddit's JSON (empty, HTML, truncated)
            raise SourceParseError(f"Reddit answered an unexpected body: {exc}") from exc
        return FetchResult(items=tuple(items), cursor=f"{newest:.0f}" if newest else None)
