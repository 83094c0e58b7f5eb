"""Readers for news data sets with real publication times (replay source, ``load_news``).

``stocknet`` ships in ``data/news/`` (MIT, see its SOURCE.md). ``benzinga`` is read from a path you
give (its licence could not be verified, so it does not ship).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

from apps.news.sources.base import FetchedItem
from apps.news.tickers import DATA_DIR


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    description: str
    default_path: Path | None


DATASETS: dict[str, Dataset] = {
    "stocknet": Dataset(
        "stocknet",
        "StockNet tweets (Xu & Cohen 2018), 12 tickers, 2015-10-01..2015-12-31, bundled",
        DATA_DIR / "stocknet_tweets_2015q4.jsonl",
    ),
    "benzinga": Dataset(
        "benzinga",
        "Benzinga analyst-ratings headlines (CSV: ,title,date,stock); pass --path",
        None,
    ),
}

_DATE = re.compile(r"^\d{4}-\d\d-\d\d")


def _stocknet(path: Path) -> Iterator[FetchedItem]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            yield FetchedItem(
                title=row["text"],
                url=f"https://twitter.com/i/web/status/{row['id']}",
                published_at=datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")),
                tickers=(row["ticker"],),
            )


def _benzinga(path: Path) -> Iterator[FetchedItem]:
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            date, title, ticker = (
                row.get("date") or "",
                row.get("title") or "",
                row.get("stock") or "",
            )
            # Two upstream headlines hold raw line breaks and split into malformed rows: skip them.
            if not _DATE.match(date) or not title.strip():
                continue
            yield FetchedItem(
                title=title,
                published_at=datetime.fromisoformat(date),
                tickers=(ticker.strip().upper(),) if ticker.strip() else (),
            )


READERS = {"stocknet": _stocknet, "benzinga": _benzinga}


def dataset_items(name: str, *, path: Path | None = None, start: int = 0) -> Iterator[FetchedItem]:
    """Items of data set ``name`` from position ``start`` (file order)."""
    try:
        dataset, reader = DATASETS[name], READERS[name]
    except KeyError:
        raise ValueError(f"unknown news data set {name!r}; known: {', '.join(DATASETS)}") from None
    source = path or dataset.default_path
    if source is None:
        raise ValueError(f"data set {name!r} does not ship with the project: give its path")
    if not source.exists():
        raise FileNotFoundError(f"news data set file not found: {source}")
    return islice(reader(source), start, None)
