"""Key partitions of the ordered stages (BUS_PARTITIONS): signals and execution split by ticker.

* The topology turns ``signals=2`` into two consumer groups, ``signals.0`` and ``signals.1``, each
  applying the tickers that hash to it; a stage that is not split by key is never split.
* Equality: the same scored articles decided by two partitions and by the one unsplit group give
  the same signals, and the partitions' outputs never share an event id (an article naming tickers
  of both partitions becomes one signal in each).
* Changing the split: the new groups start where the old one stopped (nothing applied twice).
* Real workers: two workers drain the two execution partitions in parallel; each ticker's signals
  still become orders in stream order, exactly once, and a portfolio-wide limit (open positions)
  holds across the partitions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import redis as redis_lib
from django.db import transaction
from django.utils import timezone

from apps.bus import outbox
from apps.bus.names import Stream
from apps.bus.tests.signals_data import long_signals_in_rounds
from apps.bus.topology import consumer_for, max_drains, partition_of, routes, routes_of
from apps.core import codec
from apps.core.models import ProcessedMessage
from conftest import wait_for

# Tickers chosen for where CRC-32 puts them with two partitions.
P0 = [t for t in ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG") if partition_of(t, 2) == 0]
P1 = [t for t in ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG") if partition_of(t, 2) == 1]


def test_the_split_tickers_land_in_both_partitions() -> None:
    assert len(P0) >= 2 and len(P1) >= 2, (P0, P1)
    assert all(partition_of(t, 2) == partition_of(t, 2) for t in P0 + P1)  # stable
    assert partition_of("AAA", 1) == 0


def test_topology_splits_only_the_stages_keyed_by_ticker(settings) -> None:
    settings.BUS_PARTITIONS = {"signals": 2, "execution": 3, "learning": 2, "sentiment": 2}
    groups = [r.group for r in routes()]
    assert [g for g in groups if g.startswith("signals")] == ["signals.0", "signals.1"]
    assert [g for g in groups if g.startswith("execution")] == [
        "execution.0",
        "execution.1",
        "execution.2",
    ]
    assert "learning" in groups and "sentiment" in groups  # not split: no keys / unordered
    assert [r.group for r in routes_of(Stream.NEWS_SCORED.value)] == ["signals.0", "signals.1"]
    # One drain at a time per partition (each ticker keeps one ordered reader).
    assert max_drains("signals.1") == 1
    cls = consumer_for("signals.1")
    assert (cls.group, cls.partition, cls.partitions) == ("signals.1", 1, 2)
    assert cls.stream == Stream.NEWS_SCORED.value
    assert consumer_for("signals.1") is cls  # one class per partition


def _scored_burst(tickers_per_article: list[list[str]]) -> list[int]:
    from apps.news.models import ArticleSentiment
    from apps.sentiment.contracts import ScoredArticle, TickerSentiment
    from apps.strategies.tests.dbdata import article_scored

    now = timezone.now()
    ids = []
    with transaction.atomic():
        for i, tickers in enumerate(tickers_per_article):
            art = article_scored(tickers[0], now - timedelta(hours=1), 0.3 + i / 20)
            for extra in tickers[1:]:
                ArticleSentiment.objects.create(
                    article=art, ticker=extra, score=-0.4, confidence=0.8, model_used="test@1"
                )
            ids.append(art.pk)
            outbox.publish(
                Stream.NEWS_SCORED.value,
                ScoredArticle(
                    article_id=art.pk,
                    published_at=art.published_at,
                    scores=tuple(TickerSentiment(t, 0.5, 0.9) for t in tickers),
                    model_used="test@1",
                ),
            )
    return ids


def _signals_out(redis_conn: redis_lib.Redis) -> list[tuple[str, str, float, str]]:
    out = []
    for _, fields in redis_conn.xrange(Stream.SIGNALS_GENERATED.value):
        event = codec.loads(fields[b"body"].decode())
        out.append(
            (event.ticker, event.direction.value, event.strength, fields[b"event_id"].decode())
        )
    return out


def _setup_tickers(settings) -> list[str]:
    from apps.strategies.seed import strategies_seed
    from apps.strategies.tests.dbdata import bars_create

    tickers = P0[:2] + P1[:2]
    settings.TRADING_SYMBOLS = tickers
    strategies_seed()
    for n, t in enumerate(tickers):
        bars_create(t, date(2017, 1, 3), date(2017, 6, 30), seed=3 + n)
    return tickers


@pytest.mark.django_db(transaction=True)
def test_two_signal_partitions_decide_as_the_one_group_does(redis_conn, settings) -> None:
    from apps.strategies.models import Signal
    from tasks.consumers.signals import SignalsOnNewsConsumer

    a0, b0, a1, b1 = _setup_tickers(settings)
    burst = [[a0], [a1], [a0, a1], [b0, b1, a0], [b1]]

    # The one group: a reference decision at a fixed market time.
    at = datetime(2017, 7, 1, 15, tzinfo=UTC)

    class Fixed:
        def now(self) -> datetime:
            return at

    SignalsOnNewsConsumer.clock = Fixed()
    try:
        _scored_burst(burst)
        assert SignalsOnNewsConsumer().consume() == len(burst)
        one = sorted((t, d, s) for t, d, s, _ in _signals_out(redis_conn))
        assert [t for t, _, _ in one] == sorted([a0, a1, b0, b1])

        # The same burst through two partitions (fresh state: same decisions, same inputs).
        Signal.objects.all().delete()
        redis_conn.flushdb()
        settings.BUS_PARTITIONS = {"signals": 2}
        _scored_burst(burst)
        p0, p1 = consumer_for("signals.0")(), consumer_for("signals.1")()
        assert p0.consume() == len(burst)  # reads every entry, applies its own tickers
        assert p1.consume() == len(burst)
    finally:
        SignalsOnNewsConsumer.clock = None
    split = _signals_out(redis_conn)
    assert sorted((t, d, s) for t, d, s, _ in split) == one
    assert len({eid for *_, eid in split}) == len(split)  # distinct ids: nothing de-duplicated
    # Receipts: a partition keeps one for each article naming one of its tickers, none for others.
    assert ProcessedMessage.objects.filter(group="signals.0").count() == 3  # articles 1, 3, 4
    assert ProcessedMessage.objects.filter(group="signals.1").count() == 4  # articles 2, 3, 4, 5
    # Per group, each message was acknowledged (also those of the other partition).
    for group in ("signals.0", "signals.1"):
        assert int(redis_conn.xpending(Stream.NEWS_SCORED.value, group)["pending"]) == 0


@pytest.mark.django_db(transaction=True)
def test_a_new_split_starts_where_the_old_group_stopped(redis_conn, settings) -> None:
    from tasks.consumers.signals import SignalsOnNewsConsumer

    a0, _, a1, _ = _setup_tickers(settings)
    _scored_burst([[a0], [a1]])
    assert SignalsOnNewsConsumer().consume() == 2  # the one group, before the split

    settings.BUS_PARTITIONS = {"signals": 2}
    _scored_burst([[a0, a1]])
    p0, p1 = consumer_for("signals.0")(), consumer_for("signals.1")()
    assert p0.consume() == 1  # only what came after the old group's last entry
    assert p1.consume() == 1
    assert ProcessedMessage.objects.filter(group__startswith="signals.").count() == 2

    # And back to one group: it moves up past what the partitions applied.
    settings.BUS_PARTITIONS = {}
    _scored_burst([[a1]])
    assert SignalsOnNewsConsumer().consume() == 1
    assert ProcessedMessage.objects.filter(group="signals").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.workers
def test_two_workers_drain_two_execution_partitions_in_order_within_limits(
    redis_conn: redis_lib.Redis, celery_workers, settings
) -> None:
    from apps.execution.models import Trade
    from apps.execution.services import broker_default

    settings.BUS_PARTITIONS = {"execution": 2}
    t = datetime(2017, 3, 1, 21, tzinfo=UTC)
    tickers = P0[:2] + P1[:2]
    broker = broker_default()
    for tk in tickers:
        broker.on_bar(tk, time=t, open=50, high=50, low=50, close=50)
    # Three open positions at most, four tickers: the limit is portfolio-wide, across partitions.
    env = {"BUS_PARTITIONS": "execution=2", "RISK_MAX_OPEN_POSITIONS": "3"}
    celery_workers(["execution"], env)
    celery_workers(["execution"], env)

    signals = long_signals_in_rounds(tickers, 4, t)

    def applied() -> int:
        return ProcessedMessage.objects.filter(group__startswith="execution.").count()

    wait_for(lambda: applied() >= len(signals), timeout=120)
    # Each partition applied exactly its own tickers' signals, once.
    for k in (0, 1):
        mine = [s for s in signals if partition_of(s.ticker, 2) == k]
        got = ProcessedMessage.objects.filter(group=f"execution.{k}").count()
        assert got == len(mine), (k, got, len(mine))
    assert not ProcessedMessage.objects.filter(group="execution").exists()
    entries = list(Trade.objects.filter(purpose="entry").order_by("pk"))
    # The limit held across partitions: three entries for four tickers.
    assert len(entries) == 3, [(e.ticker, e.signal_id) for e in entries]
    for tk in {e.ticker for e in entries}:
        # In stream order per ticker: the first signal opened the position, later ones added none.
        first = next(s for s in signals if s.ticker == tk)
        assert [e.signal_id for e in entries if e.ticker == tk] == [first.pk], tk
    for k in (0, 1):
        pending = redis_conn.xpending(Stream.SIGNALS_GENERATED.value, f"execution.{k}")
        assert int(pending["pending"]) == 0


@pytest.mark.django_db(transaction=True)
def test_bus_groups_lists_the_split_and_drops_only_empty_stale_groups(redis_conn, settings) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tasks.consumers.signals import SignalsOnNewsConsumer

    a0, _, a1, _ = _setup_tickers(settings)
    _scored_burst([[a0], [a1]])
    assert SignalsOnNewsConsumer().consume() == 2  # the one group, all acknowledged
    settings.BUS_PARTITIONS = {"signals": 2}
    _scored_burst([[a0, a1]])
    for k in (0, 1):
        consumer_for(f"signals.{k}")().consume()

    out = StringIO()
    call_command("bus_groups", stdout=out)
    lines = out.getvalue().splitlines()
    rows = {ln.split()[1]: ln.split()[2] for ln in lines[1:] if ln.startswith("news:scored")}
    assert rows == {"signals": "stale", "signals.0": "current", "signals.1": "current"}
    assert lines[-1] == "stale groups (old split): signals; --drop-stale"

    # A stale group with a pending entry is kept (its entry would be lost)...
    redis_conn.xgroup_create(Stream.NEWS_SCORED.value, "signals.2", id="0")
    redis_conn.xreadgroup("signals.2", "gone", {Stream.NEWS_SCORED.value: ">"}, count=1)
    out, err = StringIO(), StringIO()
    call_command("bus_groups", "--drop-stale", stdout=out, stderr=err)
    # ... an empty one is dropped; the current partitions stay.
    assert "dropped signals on news:scored" in out.getvalue()
    assert "kept signals.2" in err.getvalue() and "1 pending" in err.getvalue()
    names = {g["name"].decode() for g in redis_conn.xinfo_groups(Stream.NEWS_SCORED.value)}
    assert names == {"signals.0", "signals.1", "signals.2"}
