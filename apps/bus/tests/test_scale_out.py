"""Scale-out of a stage: two real workers on one queue.

* The sentiment stage (unordered): with a backlog, a drain that reads a full batch wakes one more
  drain, which the second worker runs in parallel; both take a share and every article is scored,
  stored and forwarded exactly once.
* The execution stage (ordered per ticker): two workers never drain it at once, so each ticker's
  signals become orders in stream order, exactly once.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib
from django.db import transaction
from django.utils import timezone

from apps.bus import outbox
from apps.bus.names import Stream
from apps.bus.tests.signals_data import long_signals_in_rounds
from apps.bus.topology import max_drains
from apps.core.models import ProcessedMessage
from apps.news.contracts import RawArticle
from apps.news.models import Article, ArticleSentiment, NewsSource
from conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]

PORTS = (8431, 8432)


def processed_ok(port: int, group: str) -> float:
    """What one worker says it handled (its own /metrics, as Prometheus would scrape it)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(
        rf'^tradebot_bus_processed_total\{{group="{group}",outcome="ok"\}} ([0-9.e+]+)$',
        body,
        re.M,
    )
    return float(m.group(1)) if m else 0.0


def articles(n: int) -> list[RawArticle]:
    source, _ = NewsSource.objects.get_or_create(name="scale feed", kind=NewsSource.Kind.RSS)
    now = timezone.now()
    rows = Article.objects.bulk_create(
        [
            Article(
                source=source,
                url=f"https://example.com/scale/{i}",
                title=f"Company {i} profit {'rises' if i % 2 else 'falls'} sharply",
                fetched_at=now,
                published_at=datetime(2024, 5, 1, 13, 30, tzinfo=UTC),
                content_hash=f"scale-{i}",
                tickers=["AAPL", "MSFT"] if i % 3 == 0 else ["AAPL"],
            )
            for i in range(n)
        ]
    )
    return [
        RawArticle(
            article_id=a.pk,
            source=source.name,
            url=a.url,
            title=a.title,
            content_hash=a.content_hash,
            fetched_at=a.fetched_at,
            published_at=a.published_at,
            tickers=tuple(a.tickers),
        )
        for a in rows
    ]


def test_only_unordered_groups_run_parallel_drains(settings):
    settings.BUS_DRAINS = {"sentiment": 3, "execution": 4, "signals": 2}
    assert max_drains("sentiment") == 3
    assert max_drains("execution") == 1  # per-ticker order: one drain at a time
    assert max_drains("signals") == 1
    assert max_drains("learning") == 1


def test_two_sentiment_workers_share_a_backlog_exactly_once(
    redis_conn: redis_lib.Redis, celery_workers, tmp_path
) -> None:
    n = 1200
    env = {
        "SENTIMENT_MODELS_DIR": str(tmp_path / "no-models"),  # VADER: fast, no model to load
        "FINBERT_MODEL": "",
        "OLLAMA_HOST": "",
        "SENTIMENT_MICRO_BATCH": "40",
        "BUS_DRAINS": "sentiment=2",
    }
    workers = [celery_workers(["sentiment"], {**env, "METRICS_PORT": str(port)}) for port in PORTS]
    for w in workers:
        wait_for(lambda: "ready." in w.output(), timeout=90)  # noqa: B023 - used at once
    batch = articles(n)
    with transaction.atomic():  # one burst: a backlog the moment it commits
        outbox.publish_many([(Stream.NEWS_RAW.value, a, None) for a in batch])

    wait_for(lambda: ProcessedMessage.objects.filter(group="sentiment").count() >= n, timeout=180)
    wait_for(lambda: int(redis_conn.xpending(Stream.NEWS_RAW.value, "sentiment")["pending"]) == 0)
    shares = [processed_ok(port, "sentiment") for port in PORTS]
    assert sum(shares) == n, (shares, [w.output()[-2000:] for w in workers])
    assert min(shares) > 0, f"one worker took no share: {shares}"
    # Exactly once: one receipt, one sentiment row per ticker, one news:scored message per article.
    assert ProcessedMessage.objects.filter(group="sentiment").count() == n
    expected_rows = sum(len(a.tickers) for a in batch)
    assert ArticleSentiment.objects.count() == expected_rows
    assert redis_conn.xlen(Stream.NEWS_SCORED.value) == n
    scored_ids = {
        int(re.search(rb'"article_id":\s*(\d+)', f[b"body"]).group(1))
        for _, f in redis_conn.xrange(Stream.NEWS_SCORED.value)
    }
    assert scored_ids == {a.article_id for a in batch}
    assert redis_conn.xlen(f"{Stream.NEWS_RAW.value}:dead") == 0


def test_two_execution_workers_keep_each_tickers_order(
    redis_conn: redis_lib.Redis, celery_workers, settings
) -> None:
    from apps.execution.models import Trade
    from apps.execution.services import broker_default

    t = datetime(2017, 3, 1, 21, tzinfo=UTC)
    tickers = ["AAA", "BBB", "CCC"]
    broker = broker_default()
    for tk in tickers:
        broker.on_bar(tk, time=t, open=50, high=50, low=50, close=50)
    env = {"BUS_DRAINS": "execution=4"}  # asks for parallel drains; an ordered group ignores it
    celery_workers(["execution"], env)
    celery_workers(["execution"], env)

    signals = long_signals_in_rounds(tickers, 4, t)
    wait_for(
        lambda: ProcessedMessage.objects.filter(group="execution").count() >= len(signals),
        timeout=120,
    )
    assert ProcessedMessage.objects.filter(group="execution").count() == len(signals)
    # Per ticker, the first signal opened the position and the later ones (same direction, a
    # position already open) made no second entry: the decisions saw the signals in order.
    for tk in tickers:
        trades = list(Trade.objects.filter(ticker=tk).order_by("pk"))
        first = next(s for s in signals if s.ticker == tk)
        assert [tr.signal_id for tr in trades if tr.purpose == "entry"] == [first.pk], tk


def test_signals_stage_decides_once_per_ticker_per_batch(redis_conn, settings) -> None:
    """A burst about one ticker is one decision (at its last article), not one per article."""
    from datetime import date

    from apps.sentiment.contracts import ScoredArticle, TickerSentiment
    from apps.strategies.models import Signal
    from apps.strategies.seed import strategies_seed
    from apps.strategies.tests.dbdata import article_scored, bars_create
    from tasks.consumers.signals import SignalsOnNewsConsumer

    settings.TRADING_SYMBOLS = ["TST", "OTH"]
    strategies_seed()
    bars_create("TST", date(2017, 1, 3), date(2017, 6, 30))
    bars_create("OTH", date(2017, 1, 3), date(2017, 6, 30), seed=7)
    now = timezone.now()
    arts = [article_scored("TST", now - timedelta(hours=1), 0.5 + i / 10) for i in range(4)]
    arts.append(article_scored("OTH", now - timedelta(hours=1), -0.6))
    with transaction.atomic():
        for art in arts:
            outbox.publish(
                Stream.NEWS_SCORED.value,
                ScoredArticle(
                    article_id=art.pk,
                    published_at=art.published_at,
                    scores=tuple(TickerSentiment(t, 0.7, 0.9) for t in art.tickers),
                    model_used="test@1",
                ),
            )
    assert SignalsOnNewsConsumer().consume() == 5
    assert sorted(Signal.objects.values_list("ticker", flat=True)) == ["OTH", "TST"]
    assert redis_conn.xlen(Stream.SIGNALS_GENERATED.value) == 2
    # Every article was handled (one receipt each), the decisions made once per ticker.
    assert ProcessedMessage.objects.filter(group="signals").count() == 5
    # The same burst split over two batches: a decision in each.
    Signal.objects.all().delete()
    redis_conn.delete(Stream.SIGNALS_GENERATED.value)
    with transaction.atomic():
        for art in arts[:2]:
            outbox.publish(
                Stream.NEWS_SCORED.value,
                ScoredArticle(
                    article_id=art.pk,
                    published_at=art.published_at,
                    scores=(TickerSentiment("TST", 0.7, 0.9),),
                    model_used="test@2",
                ),
            )
    consumer = SignalsOnNewsConsumer()
    assert consumer.consume(count=1) == 1
    assert consumer.consume(count=1) == 1
    assert Signal.objects.filter(ticker="TST").count() == 2
