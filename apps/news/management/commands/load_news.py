"""``manage.py load_news [--dataset stocknet] [--path FILE] [--no-publish]``: ingest a news data set.

Articles keep their real ``published_at``; loading twice stores nothing new (dedup by URL/hash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.news.models import NewsSource
from apps.news.services import article_ingest
from apps.news.sources.datasets import DATASETS, dataset_items


class Command(BaseCommand):
    help = (
        "Ingest a bundled (or given) news data set as articles with their real publication times."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", default="stocknet", choices=sorted(DATASETS))
        parser.add_argument("--path", type=Path, default=None, help="file of the data set")
        parser.add_argument("--limit", type=int, default=None, help="at most this many items")
        parser.add_argument(
            "--no-publish",
            action="store_true",
            help="store only; do not publish news:raw (e.g. for backtests that score themselves)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        name: str = opts["dataset"]
        try:
            items = list(dataset_items(name, path=opts["path"]))
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if opts["limit"] is not None:
            items = items[: opts["limit"]]
        source, _ = NewsSource.objects.get_or_create(
            name=f"Dataset: {name}",
            defaults={
                "kind": NewsSource.Kind.REPLAY,
                "enabled": False,
                "options": {"dataset": name},
            },
        )
        self.stdout.write(f"loading {len(items)} item(s) of {DATASETS[name].description}")
        result = article_ingest(source=source, items=items, publish=not opts["no_publish"])
        self.stdout.write(
            self.style.SUCCESS(
                f"stored {result.stored}, already there {result.duplicate_url} (url) + "
                f"{result.duplicate_hash} (content), unusable {result.invalid}"
            )
        )
