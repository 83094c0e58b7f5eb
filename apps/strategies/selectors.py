"""Reads of the signals stage: bar windows, point-in-time sentiment, current weights."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection

from apps.market.contracts import Bar
from apps.market.selectors import bars_frame
from apps.market.sources.replay import bar_visible_at
from apps.news.models import ArticleSentiment
from apps.news.visibility import news_cutoff
from apps.strategies.base import MarketFrame, SentimentSeries
from apps.strategies.models import LIVE_ACCOUNT, Signal, Strategy, StrategyWeightHistory


def bars_frame_upto(*, ticker: str, timeframe: str, at: datetime, limit: int) -> MarketFrame:
    """The last ``limit`` bars of ``ticker`` that are *complete* at ``at``, oldest first.

    Bars are stamped with their open time (daily: midnight New York), so a bar with
    ``time <= at`` may still be forming at ``at``; it is dropped unless it was visible (closed)
    by then, which keeps intraday news-triggered decisions free of look-ahead.
    """
    frame = bars_frame(symbol=ticker, timeframe=timeframe, end=at, lookback=limit)
    n = len(frame)
    if n:
        last = _dt(int(frame.time[-1]))
        probe = Bar(ticker, timeframe, last, 0.0, 0.0, 0.0, 0.0, 0.0)
        if bar_visible_at(probe) > at:
            frame = frame.upto(n - 2) if n > 1 else frame.upto(-1)
    return frame


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=(ns // 1000) % 1_000_000
    )


def sentiment_series_upto(
    *, ticker: str, at: datetime, since: datetime | None = None, latency_s: float | None = None
) -> SentimentSeries:
    """Sentiment items for ``ticker`` visible at ``at`` (:mod:`apps.news.visibility`): stamped with
    the article's ``published_at`` (``fetched_at`` when the source gave no date), visible
    ``latency_s`` (``NEWS_VISIBLE_AFTER_S``) later; ``visible_at`` carries that visibility. Items
    visible before ``since`` are left out. Several models may have scored the same article: each
    counts, weighted by its own confidence.
    """
    lat = settings.NEWS_VISIBLE_AFTER_S if latency_s is None else latency_s
    # One range scan of (ticker, visible_at) -- the article's stamp is copied onto the sentiment
    # row by the database (news/0004) -- with the stamp read as exact integer microseconds.
    where = ["ticker = %s", "visible_at <= %s"]
    params: list[str | datetime] = [ticker, news_cutoff(at=at, latency_s=lat)]
    if since is not None:
        where.append("visible_at >= %s")
        params.append(news_cutoff(at=since, latency_s=lat))
    sql = (
        "SELECT (EXTRACT(EPOCH FROM visible_at) * 1000000)::bigint, score, confidence "
        f"FROM {ArticleSentiment._meta.db_table} WHERE {' AND '.join(where)} "
        "ORDER BY visible_at, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return SentimentSeries.empty()
    vis, score, conf = zip(*rows, strict=True)
    return SentimentSeries(
        visible_at=np.asarray(vis, dtype=np.int64) * 1000 + round(lat * 1_000_000_000),
        score=np.array(score, dtype=np.float64),
        confidence=np.array(conf, dtype=np.float64),
    )


def account_weights(
    *, strategies: list[Strategy], account: str = LIVE_ACCOUNT
) -> dict[str, Decimal]:
    """The current weights of ``strategies`` for ``account``: live, the strategies' own weights;
    another account (a replay), its latest weight-history row per strategy, else the live weight
    (where it started)."""
    weights = {s.name: s.weight for s in strategies}
    if account == LIVE_ACCOUNT:
        return weights
    rows = (
        StrategyWeightHistory.objects.filter(account=account, strategy__in=strategies)
        .order_by("strategy_id", "-timestamp", "-id")
        .distinct("strategy_id")
        .values_list("strategy__name", "new_weight")
    )
    weights.update({name: w for name, w in rows})
    return weights


def strategy_weights(account: str = LIVE_ACCOUNT) -> dict[str, tuple[float, dict[str, object]]]:
    """Active strategies: name -> (current weight for ``account``, params)."""
    rows = list(Strategy.objects.filter(active=True).order_by("name"))
    weights = account_weights(strategies=rows, account=account)
    return {s.name: (float(weights[s.name]), dict(s.params or {})) for s in rows}


def signal_latest(*, ticker: str, account: str = LIVE_ACCOUNT) -> Signal | None:
    return (
        Signal.objects.filter(account=account, ticker=ticker).order_by("-decided_at", "-id").first()
    )
