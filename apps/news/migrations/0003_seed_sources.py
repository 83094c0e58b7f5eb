"""Seed the default news sources.

Network sources that need no credentials (the RSS feeds) are seeded *disabled*: the default install
runs offline and they would only fail. Credentialed sources are enabled; without credentials each poll
is logged as skipped. The replay source plays the bundled StockNet tweets so the offline demo has news.
"""

from django.db import migrations

DEFAULTS = [
    {
        "name": "Yahoo Finance",
        "kind": "rss",
        "url": "https://finance.yahoo.com/news/rssindex",
        "poll_interval_s": 300,
        "enabled": False,
    },
    {
        "name": "MarketWatch top stories",
        "kind": "rss",
        "url": "https://feeds.content.dowjones.io/public/rss/mw_topstories",
        "poll_interval_s": 300,
        "enabled": False,
    },
    {
        "name": "Reuters business",
        "kind": "rss",
        # Reuters retired its public RSS feeds in 2020; point this at a feed you have access to.
        "url": "https://feeds.reuters.com/reuters/businessNews",
        "poll_interval_s": 600,
        "enabled": False,
    },
    {
        "name": "SEC EDGAR 8-K filings",
        "kind": "rss",
        "url": "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=8-K&count=40&output=atom",
        "poll_interval_s": 600,
        "enabled": False,
    },
    {"name": "r/wallstreetbets", "kind": "reddit", "subreddit": "wallstreetbets", "poll_interval_s": 120},
    {"name": "r/stocks", "kind": "reddit", "subreddit": "stocks", "poll_interval_s": 300},
    {"name": "r/investing", "kind": "reddit", "subreddit": "investing", "poll_interval_s": 300},
    {
        "name": "X cashtags",
        "kind": "x",
        "account": "($AAPL OR $MSFT OR $AMZN OR $GOOGL OR $NVDA) -is:retweet lang:en",
        "poll_interval_s": 300,
    },
    {"name": "Alpaca News", "kind": "alpaca", "poll_interval_s": 120},
    {
        "name": "Replay: StockNet tweets 2015 Q4",
        "kind": "replay",
        "poll_interval_s": 60,
        "options": {"dataset": "stocknet", "batch": 20},
    },
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    NewsSource = apps.get_model("news", "NewsSource")
    for row in DEFAULTS:
        row = dict(row)
        NewsSource.objects.get_or_create(name=row.pop("name"), defaults=row)


def unseed(apps, schema_editor):  # type: ignore[no-untyped-def]
    NewsSource = apps.get_model("news", "NewsSource")
    NewsSource.objects.filter(name__in=[r["name"] for r in DEFAULTS], articles__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("news", "0002_source_cursor_options")]

    operations = [migrations.RunPython(seed, unseed)]
