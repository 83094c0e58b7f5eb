"""Writes of the signals stage: evaluate the ensemble for a ticker at a time, persist, publish."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import router, transaction
from django.db.models.constants import OnConflict

from apps.bus.names import Stream
from apps.bus.outbox import publish as bus_publish
from apps.market.contracts import Bar
from apps.market.models import MarketBar
from apps.market.sources.replay import bar_visible_at
from apps.strategies.base import Strategy, guarded_scores
from apps.strategies.contracts import SignalEvent, StrategyContribution
from apps.strategies.ensemble import CONTRIBUTION_DECIMALS, EnsembleConfig, ensemble_combine
from apps.strategies.metrics import (
    SIGNAL_SECONDS,
    SIGNALS_GENERATED,
    SIGNALS_SKIPPED,
    STRATEGY_FAILURES,
    STRATEGY_SIGNALS,
)
from apps.strategies.models import LIVE_ACCOUNT, Signal
from apps.strategies.news_driven import (
    NewsDriven,
    NewsDrivenConfig,
    news_view,
    sentiment_aggregate,
)
from apps.strategies.registry import strategy_build
from apps.strategies.selectors import bars_frame_upto, sentiment_series_upto, strategy_weights

log = logging.getLogger(__name__)

_SIGNAL_NS = uuid.UUID("6f1d7c4e-2b8a-4c1e-9a53-0d6f3b1e8a11")


def ensemble_config_from_settings() -> EnsembleConfig:
    return EnsembleConfig(
        long_threshold=settings.ENSEMBLE_LONG_THRESHOLD,
        short_threshold=settings.ENSEMBLE_SHORT_THRESHOLD,
    )


@dataclass(frozen=True)
class SignalOutcome:
    signal: Signal
    event: SignalEvent
    created: bool  # False: this (ticker, decided_at) was decided before; nothing re-published


def signal_event_id(signal: Signal) -> uuid.UUID:
    """The stream event id of a signal: deterministic, so a re-publish is de-duplicated."""
    return uuid.uuid5(_SIGNAL_NS, f"signal:{signal.pk}")


def signal_event(signal: Signal) -> SignalEvent:
    return SignalEvent(
        signal_id=signal.pk,
        ticker=signal.ticker,
        direction=signal.direction,  # type: ignore[arg-type]
        strength=float(signal.strength),
        contributions=tuple(
            StrategyContribution(str(c["strategy"]), float(c["score"]), float(c["weight"]))
            for c in signal.strategy_sources
        ),
        decided_at=signal.decided_at,
        sentiment_score=signal.sentiment_score,
        price=signal.price,
    )


def _insert_new(signal: Signal) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: one round trip where ``get_or_create``
    costs four (select, savepoint, insert, release). False (nothing written) when (account,
    ticker, decided_at) is decided already. Django's insert compiler builds the statement (field
    preparation, ``auto_now_add``); ``bulk_create(ignore_conflicts=True)`` would not return the id.
    """
    fields = [f for f in Signal._meta.concrete_fields if not f.primary_key]
    # QuerySet._insert: Django's own insert path (bulk_create's); the stubs leave it out.
    rows = Signal.objects.get_queryset()._insert(  # type: ignore[attr-defined]  # noqa: SLF001
        [signal],
        fields=fields,
        returning_fields=[Signal._meta.pk],
        on_conflict=OnConflict.IGNORE,
    )
    if not rows or rows[0] is None or rows[0][0] is None:
        return False
    signal.pk = rows[0][0]
    signal._state.adding = False  # noqa: SLF001
    signal._state.db = router.db_for_write(Signal)  # noqa: SLF001
    return True


def _count_failure(strategy: Strategy, exc: BaseException) -> None:
    STRATEGY_FAILURES.labels(strategy.name).inc()


def signal_generate(
    *,
    ticker: str,
    at: datetime,
    publish: bool = True,
    timeframe: str | None = None,
    lookback: int | None = None,
    account: str = LIVE_ACCOUNT,
    weights: Mapping[str, tuple[float, dict[str, object]]] | None = None,
    look_up: bool = True,
) -> SignalOutcome | None:
    """Decide for ``ticker`` at ``at`` from what was visible then; persist and publish the signal.

    Reads the last ``lookback`` complete bars (time <= at), the sentiment of articles published at
    or before ``at``, and the active strategies' current weights and params. Idempotent on
    (ticker, decided_at): a second call for the same time returns the stored signal and publishes
    nothing. ``publish=False`` leaves the publishing to the caller (a stream consumer emits it
    with its own derived event id; the replay command publishes nothing). Returns None, with a
    log line and a metric, when there are no bars or no active strategy. ``account`` labels the
    signal's owner (``live``, or a replay's own label), so replays never touch live rows.
    ``weights``: :func:`strategy_weights` of ``account`` when the caller has read them for several
    decisions at once (the signals stage, once per micro-batch). ``look_up=False``: the caller
    decides at a time of its own that cannot have been decided before (the signals stage's batch
    time), so the look-up for a stored decision is skipped; a duplicate still stores nothing.
    """
    started = time.perf_counter()
    if look_up:
        existing = Signal.objects.filter(account=account, ticker=ticker, decided_at=at).first()
        if existing is not None:
            return SignalOutcome(existing, signal_event(existing), created=False)
    weights = strategy_weights(account) if weights is None else weights
    if not weights:
        SIGNALS_SKIPPED.labels("no active strategy").inc()
        log.warning("signals: no active strategy in the strategies table; %s skipped", ticker)
        return None
    tf = timeframe or settings.SIGNALS_TIMEFRAME
    frame = bars_frame_upto(
        ticker=ticker, timeframe=tf, at=at, limit=lookback or settings.SIGNALS_LOOKBACK_BARS
    )
    if len(frame) == 0:
        SIGNALS_SKIPPED.labels("no bars").inc()
        log.info("signals: no %s bars of %s up to %s; skipped", tf, ticker, at.isoformat())
        return None
    strategies = {name: strategy_build(name, params) for name, (_, params) in weights.items()}
    news_cfg = next(
        (s.config for s in strategies.values() if isinstance(s, NewsDriven)), NewsDrivenConfig()
    )
    assert isinstance(news_cfg, NewsDrivenConfig)
    sentiment = sentiment_series_upto(
        ticker=ticker, at=at, since=at - timedelta(hours=news_cfg.max_age_hours)
    )
    at_ns = int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000
    frame = replace(frame, sentiment=sentiment)
    # News is aggregated at the decision time itself (a bar is stamped with its open time).
    news_frame = news_view(frame, np.r_[frame.time[:-1], np.int64(at_ns)])
    scores = {
        name: guarded_scores(s, news_frame if isinstance(s, NewsDriven) else frame, _count_failure)
        for name, s in strategies.items()
    }
    result = ensemble_combine(
        scores, {n: w for n, (w, _) in weights.items()}, ensemble_config_from_settings()
    )
    decision = result.at(len(frame) - 1)
    agg = sentiment_aggregate(news_frame, news_cfg)
    senti = float(agg.mean[-1])
    signal = Signal(
        account=account,
        ticker=ticker,
        decided_at=at,
        direction=decision.direction.value,
        strength=round(decision.strength, 6),
        strategy_sources=[
            {
                "strategy": c.strategy,
                "score": round(c.score, CONTRIBUTION_DECIMALS),
                "weight": c.weight,
            }
            for c in decision.contributions
        ],
        sentiment_score=round(senti, 6) if np.isfinite(senti) else None,
        price=Decimal(str(round(float(frame.close[-1]), 6))),
    )
    # No savepoint inside a caller's transaction (a consumer's batch): the insert is one statement
    # that cannot fail on a duplicate.
    with transaction.atomic(savepoint=False):
        created = _insert_new(signal)
        if not created:  # decided meanwhile by another caller: that decision stands
            signal = Signal.objects.get(account=account, ticker=ticker, decided_at=at)
        event = signal_event(signal)
        if created:
            SIGNALS_GENERATED.labels(signal.direction).inc()
            for name, series in scores.items():
                v = float(series[-1])
                if np.isfinite(v):
                    STRATEGY_SIGNALS.labels(
                        name, "long" if v > 0 else "short" if v < 0 else "flat"
                    ).inc()
            if publish:
                bus_publish(Stream.SIGNALS_GENERATED, event, event_id=signal_event_id(signal))
    SIGNAL_SECONDS.observe(time.perf_counter() - started)
    return SignalOutcome(signal, event, created)


def signals_scan(*, symbols: list[str], now: datetime, timeframe: str | None = None) -> list[str]:
    """Decide at the close of each symbol's newest complete bar, once (idempotent).

    The beat-driven trigger for new bars: whatever writes bars (the Alpaca stream, a backfill, a
    replay) needs no hook into this stage. Returns the symbols that got a new signal.
    """
    tf = timeframe or settings.SIGNALS_TIMEFRAME
    made: list[str] = []
    for symbol in symbols:
        for row in MarketBar.objects.filter(symbol=symbol, timeframe=tf, time__lte=now).order_by(
            "-time"
        )[:2]:
            at = bar_visible_at(Bar(symbol, tf, row.time, 0.0, 0.0, 0.0, 0.0, 0.0))
            if at > now:
                continue  # still forming: the previous bar is the newest complete one
            outcome = signal_generate(ticker=symbol, at=at, timeframe=tf)
            if outcome is not None and outcome.created:
                made.append(symbol)
            break
    return made
