"""Rebuild the files in this folder from the shared real-data tree (see SOURCE.md).

    python data/news/build.py /path/to/shared/data

Writes ``listings.csv`` (from SEC's company_tickers.json) and ``stocknet_tweets_2015q4.jsonl`` (a
subset of the StockNet tweets). ``aliases.csv`` and ``ticker_stopwords.txt`` are curated by hand.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICKER = re.compile(r"^[A-Z]{1,5}(?:[.-][A-Z]{1,2})?$")
STOCKNET_WINDOW = ("2015-10-01", "2015-12-31")


def build_listings(shared: Path) -> int:
    with gzip.open(shared / "news/sec_edgar_samples/cik_map.json.gz") as fh:
        raw = json.loads(fh.read())
    rows: dict[str, tuple[int, str]] = {}
    for entry in raw.values():
        ticker = str(entry["ticker"]).upper().strip()
        if TICKER.match(ticker) and ticker not in rows:
            rows[ticker] = (int(entry["cik_str"]), " ".join(str(entry["title"]).split()))
    with open(HERE / "listings.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["ticker", "cik", "name"])
        for ticker in sorted(rows):
            cik, name = rows[ticker]
            out.writerow([ticker, cik, name])
    return len(rows)


def build_stocknet(shared: Path) -> int:
    lo, hi = STOCKNET_WINDOW
    items = []
    seen: set[str] = set()
    for path in sorted((shared / "news/stocknet_tweets/tweets_text").glob("*.jsonl")):
        for line in path.open():
            row = json.loads(line)
            created = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(
                UTC
            )
            # Retweets repeat another tweet's text; non-English tweets are out of the scorer's reach.
            if row["lang"] != "en" or row["text"].startswith("RT @") or row["id_str"] in seen:
                continue
            if lo <= created.strftime("%Y-%m-%d") <= hi:
                seen.add(row["id_str"])
                items.append(
                    {
                        "id": row["id_str"],
                        "ticker": row["ticker"],
                        "created_at": created.isoformat().replace("+00:00", "Z"),
                        "text": row["text"],
                    }
                )
    items.sort(key=lambda r: (r["created_at"], r["id"]))
    with open(HERE / "stocknet_tweets_2015q4.jsonl", "w") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    return len(items)


if __name__ == "__main__":
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    print("listings:", build_listings(shared))
    print("stocknet tweets:", build_stocknet(shared))
