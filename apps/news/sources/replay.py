"""Plays a bundled news data set as if it were live: ``batch`` items per poll, in file order.

Items keep their real ``published_at``; the cursor is how many items were played. When the data
set is exhausted the source returns nothing (``options["loop"] = true`` starts again).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from apps.news.sources.base import (
    FetchResult,
    NewsSourceAdapter,
    SourceConfig,
    SourceConfigError,
)
from apps.news.sources.datasets import dataset_items


class ReplaySource(NewsSourceAdapter):
    kind = "replay"

    def fetch(self, config: SourceConfig) -> FetchResult:
        name = str(config.options.get("dataset", "stocknet"))
        batch = max(1, int(config.options.get("batch", 20)))
        path = Path(config.options["path"]) if config.options.get("path") else None
        position = int(config.cursor or 0)
        try:
            items = tuple(islice(dataset_items(name, path=path, start=position), batch))
            if not items and config.options.get("loop") and position:
                position = 0
                items = tuple(islice(dataset_items(name, path=path), batch))
        except (ValueError, FileNotFoundError) as exc:
            raise SourceConfigError(str(exc)) from exc
        return FetchResult(items=items, cursor=str(position + len(items)))
