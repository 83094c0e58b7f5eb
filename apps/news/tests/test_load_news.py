"""The bundled replay data set: ``manage.py load_news`` and the replay source."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.bus.names import Stream
from apps.news.models import Article, NewsSource
from apps.news.services import source_poll
from apps.news.sources.datasets import DATASETS, dataset_items

pytestmark = pytest.mark.usefixtures("news_settings", "no_default_sources")


def test_bundled_stocknet_subset_is_readable():
    items = list(dataset_items("stocknet"))
    path = DATASETS["stocknet"].default_path
    assert path is not None
    assert len(items) == len(path.read_text().splitlines())
    assert all(i.published_at and i.published_at.year == 2015 for i in items)
    assert {i.tickers[0] for i in items} >= {"AAPL", "MSFT", "AMZN", "GOOG", "FB"}


@pytest.mark.django_db(transaction=True)
def test_load_news_is_idempotent_and_keeps_real_dates(redis_conn):
    out = StringIO()
    call_command("load_news", "--dataset", "stocknet", "--limit", "300", stdout=out)
    stored = Article.objects.count()
    assert "stored" in out.getvalue() and 250 < stored <= 300

    again = StringIO()
    call_command("load_news", "--limit", "300", stdout=again)

    assert Article.objects.count() == stored
    assert "stored 0," in again.getvalue()
    first = Article.objects.order_by("published_at")[0]
    assert first.published_at is not None
    assert first.published_at.isoformat().startswith("2015-10-01")
    assert first.url.startswith("https://twitter.com/i/web/status/")
    assert len(redis_conn.xrange(Stream.NEWS_RAW.value)) == stored


@pytest.mark.django_db(transaction=True)
def test_load_news_no_publish_stores_without_stream(redis_conn):
    call_command("load_news", "--limit", "20", "--no-publish", stdout=StringIO())
    assert Article.objects.exists()
    assert redis_conn.xlen(Stream.NEWS_RAW.value) == 0


@pytest.mark.django_db
def test_load_news_benzinga_from_a_given_path(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(
        ",title,date,stock\n"
        "0,Stocks That Hit 52-Week Highs On Friday,2020-06-05 10:30:00-04:00,A\n"
        '1,"Agilent Technologies broken\n'
        'headline",,\n'
        "2,Morgan Stanley Maintains Overweight on Advance Auto Parts,2020-05-22 09:13:00-04:00,AAP\n"
    )
    call_command("load_news", "--dataset", "benzinga", "--path", str(path), stdout=StringIO())
    titles = dict(Article.objects.values_list("title", "tickers"))
    assert titles["Morgan Stanley Maintains Overweight on Advance Auto Parts"] == ["AAP", "MS"]
    assert titles["Stocks That Hit 52-Week Highs On Friday"] == ["A"]
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_load_news_benzinga_without_path_is_a_clear_error():
    with pytest.raises(CommandError, match="does not ship with the project"):
        call_command("load_news", "--dataset", "benzinga", stdout=StringIO())


@pytest.mark.django_db
def test_replay_source_plays_in_batches_and_stops_at_the_end(tmp_path):
    lines = [
        {
            "id": str(i),
            "ticker": "AAPL",
            "created_at": f"2015-10-0{i}T12:00:00Z",
            "text": f"$AAPL tweet {i}",
        }
        for i in range(1, 6)
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    source = NewsSource.objects.create(
        name="replay", kind="replay", options={"dataset": "stocknet", "path": str(path), "batch": 2}
    )

    stored = [source_poll(source_id=source.pk).stored for _ in range(4)]

    assert stored == [2, 2, 1, 0]
    source.refresh_from_db()
    assert source.cursor == "5"
    assert list(Article.objects.order_by("published_at").values_list("title", flat=True))[:2] == [
        "$AAPL tweet 1",
        "$AAPL tweet 2",
    ]


@pytest.mark.django_db
def test_seeded_default_sources_exist():
    import importlib

    from django.apps import apps

    # Transactional tests flush the seed rows; run the data migration's function again (idempotent).
    seed = importlib.import_module("apps.news.migrations.0003_seed_sources").seed
    seed(apps, None)
    seed(apps, None)
    kinds = dict(NewsSource.objects.values_list("name", "kind"))
    assert kinds["Yahoo Finance"] == kinds["SEC EDGAR 8-K filings"] == "rss"
    assert kinds["r/wallstreetbets"] == "reddit" and kinds["Alpaca News"] == "alpaca"
    assert kinds["Replay: StockNet tweets 2015 Q4"] == "replay"
