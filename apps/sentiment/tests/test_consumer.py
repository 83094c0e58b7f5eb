"""The sentiment stage end to end on real PostgreSQL + Redis: news:raw -> rows + news:scored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.utils import timezone

from apps.bus import outbox
from apps.bus.names import Stream
from apps.bus.topology import consumer_for, routes_of
from apps.core import codec
from apps.news.contracts import RawArticle
from apps.news.models import Article, ArticleSentiment, NewsSource
from apps.sentiment import metrics
from apps.sentiment.contracts import ScoredArticle
from apps.sentiment.scoring import MARKET_TICKER
from apps.sentiment.selectors import scorer_reset
from tasks.consumers.sentiment import SentimentConsumer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _lexicon(settings, tmp_path):
    """No trained model in this test's models dir: scoring uses the VADER fallback (fast)."""
    settings.FINBERT_MODEL = ""
    settings.SENTIMENT_MODELS_DIR = tmp_path / "no-models"
    settings.OLLAMA_HOST = ""
    scorer_reset()
    yield
    scorer_reset()


def article(title: str, tickers: list[str], n: int = 0) -> RawArticle:
    source, _ = NewsSource.objects.get_or_create(name="test feed", kind=NewsSource.Kind.RSS)
    row = Article.objects.create(
        source=source,
        url=f"https://example.com/{n}",
        title=title,
        fetched_at=timezone.now(),
        published_at=datetime(2024, 5, 1, 13, 30, tzinfo=UTC),
        content_hash=f"hash-{n}",
        tickers=tickers,
    )
    return RawArticle(
        article_id=row.pk,
        source=source.name,
        url=row.url,
        title=title,
        content_hash=row.content_hash,
        fetched_at=row.fetched_at,
        published_at=row.published_at,
        tickers=tuple(tickers),
    )


def scored_messages(redis_conn) -> list[ScoredArticle]:
    out = []
    for _, fields in redis_conn.xrange(Stream.NEWS_SCORED):
        msg = codec.loads(fields[b"body"].decode())
        assert isinstance(msg, ScoredArticle)
        out.append(msg)
    return out


def test_consumer_is_registered_on_the_sentiment_queue():
    assert consumer_for("sentiment") is SentimentConsumer
    assert [r.group for r in routes_of(Stream.NEWS_RAW)] == ["sentiment"]
    assert SentimentConsumer.queue == "sentiment"


def test_news_raw_to_rows_and_news_scored(redis_conn):
    before = metrics.ARTICLES_SCORED.labels("1")._value.get()
    with transaction.atomic():
        good = article(
            "Apple posts great record profits, an excellent quarter", ["AAPL", "MSFT"], 1
        )
        bad = article("Terrible crash wipes out the market, a disaster for investors", [], 2)
        outbox.publish(Stream.NEWS_RAW, good)
        outbox.publish(Stream.NEWS_RAW, bad)
    assert redis_conn.xlen(Stream.NEWS_RAW) == 2

    assert SentimentConsumer().consume() == 2

    rows = {(r.article_id, r.ticker): r for r in ArticleSentiment.objects.all()}
    assert set(rows) == {
        (good.article_id, "AAPL"),
        (good.article_id, "MSFT"),
        (bad.article_id, MARKET_TICKER),  # no tickers: the market-wide pseudo-ticker
    }
    assert rows[(good.article_id, "AAPL")].score > 0.5
    assert rows[(bad.article_id, MARKET_TICKER)].score < -0.5
    assert {r.model_used for r in rows.values()} == {"vader-lexicon@3.3.2"}
    assert {r.tier for r in rows.values()} == {1}

    messages = {m.article_id: m for m in scored_messages(redis_conn)}
    assert set(messages) == {good.article_id, bad.article_id}
    g = messages[good.article_id]
    assert [s.ticker for s in g.scores] == ["AAPL", "MSFT"]
    assert g.scores[0].score == pytest.approx(rows[(good.article_id, "AAPL")].score)
    assert g.model_used == "vader-lexicon@3.3.2" and g.tier == 1
    assert g.published_at == datetime(2024, 5, 1, 13, 30, tzinfo=UTC)
    assert redis_conn.xpending(Stream.NEWS_RAW, "sentiment")["pending"] == 0
    assert metrics.ARTICLES_SCORED.labels("1")._value.get() == before + 2
    assert metrics.FALLBACK_IN_USE._value.get() == 1


def test_replayed_article_is_stored_once(redis_conn):
    with transaction.atomic():
        a = article("Shares rise after a strong outlook", ["NVDA"], 3)
        outbox.publish(Stream.NEWS_RAW, a)
    SentimentConsumer().consume()
    # The same article arrives again as a new event (e.g. the news stage re-published it).
    with transaction.atomic():
        outbox.publish(Stream.NEWS_RAW, a)
    SentimentConsumer().consume()
    assert ArticleSentiment.objects.filter(article_id=a.article_id).count() == 1


def test_deleted_article_is_acknowledged_without_rows(redis_conn):
    with transaction.atomic():
        a = article("Gone before scoring", ["IBM"], 4)
        outbox.publish(Stream.NEWS_RAW, a)
    Article.objects.filter(pk=a.article_id).delete()
    assert SentimentConsumer().consume() == 1
    assert not ArticleSentiment.objects.exists()
    assert redis_conn.xlen(Stream.NEWS_SCORED) == 0
    assert redis_conn.xpending(Stream.NEWS_RAW, "sentiment")["pending"] == 0


def test_unsure_items_go_to_ollama_tier2(settings, redis_conn, ollama_standin):
    settings.OLLAMA_HOST = ollama_standin.url
    settings.SENTIMENT_TIER2_THRESHOLD = 0.99  # VADER is never that sure: everything goes to tier 2
    ollama_standin.answer = {
        "score": -0.7,
        "confidence": 0.85,
        "tickers": ["TSLA"],
        "key_entities": ["Tesla"],
    }
    with transaction.atomic():
        no_tickers = article("Tesla recalls cars over a fault", [], 5)
        with_tickers = article("Tesla recalls cars, Ford too", ["F"], 6)
        outbox.publish(Stream.NEWS_RAW, no_tickers)
        outbox.publish(Stream.NEWS_RAW, with_tickers)
    SentimentConsumer().consume()
    rows = sorted(
        ArticleSentiment.objects.values_list("article_id", "ticker", "tier", "model_used")
    )
    assert rows == [
        (no_tickers.article_id, "TSLA", 2, "ollama/llama3@latest"),  # tier-2 tickers fill the gap
        (with_tickers.article_id, "F", 2, "ollama/llama3@latest"),  # the article's own tickers win
    ]
    assert {m.tier for m in scored_messages(redis_conn)} == {2}
    assert all(r["path"] == "/api/chat" for r in ollama_standin.requests)


def test_ollama_down_keeps_tier1(settings, redis_conn, ollama_standin):
    settings.OLLAMA_HOST = ollama_standin.url
    settings.SENTIMENT_TIER2_THRESHOLD = 0.99
    settings.SENTIMENT_TIER2_TIMEOUT_S = 0.3
    ollama_standin.mode, ollama_standin.delay = "slow", 2.0
    before = metrics.TIER2_OUTCOMES.labels("timeout")._value.get()
    with transaction.atomic():
        a = article("Tesla recalls cars over a fault", ["TSLA"], 7)
        outbox.publish(Stream.NEWS_RAW, a)
    SentimentConsumer().consume()
    [row] = ArticleSentiment.objects.all()
    assert (row.tier, row.model_used) == (1, "vader-lexicon@3.3.2")
    assert metrics.TIER2_OUTCOMES.labels("timeout")._value.get() == before + 1


def test_rescore_task_stores_and_publishes(redis_conn):
    from tasks.sentiment import rescore, warmup

    with transaction.atomic():
        a = article("Great results lift the shares", ["AMD"], 8)
    assert warmup.run() == "vader-lexicon@3.3.2"
    assert rescore.run(a.article_id) == "vader-lexicon@3.3.2"
    [row] = ArticleSentiment.objects.filter(article_id=a.article_id)
    assert row.ticker == "AMD" and row.score > 0
    [msg] = scored_messages(redis_conn)
    assert msg.article_id == a.article_id and msg.scores[0].ticker == "AMD"


def test_a_burst_is_read_as_one_micro_batch_of_read_count(redis_conn, monkeypatch):
    from django.conf import settings

    assert SentimentConsumer.read_count == settings.SENTIMENT_MICRO_BATCH
    assert SentimentConsumer.read_count > settings.BUS["BATCH"]  # inference likes big batches
    calls: list[int] = []
    original = SentimentConsumer._score

    def counting(self, articles):
        calls.append(len(articles))
        return original(self, articles)

    monkeypatch.setattr(SentimentConsumer, "_score", counting)
    monkeypatch.setattr(SentimentConsumer, "read_count", 3)
    with transaction.atomic():
        for n in range(5):
            outbox.publish(Stream.NEWS_RAW, article(f"Shares rise {n}", ["AAPL"], 10 + n))
    consumer = SentimentConsumer()
    assert consumer.consume() == 3
    assert consumer.consume() == 2
    assert calls == [3, 2]
    assert ArticleSentiment.objects.count() == 5
