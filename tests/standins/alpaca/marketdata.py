"""The stand-in's Market Data API: stored bars served as ``/v2/stocks/bars`` pages.

Bars are loaded from the project's ``data/bars`` CSVs (daily as ``1Day`` stamped at midnight New
York like Alpaca, minute files as ``1Min``) and can be added by tests. Responses follow
``market-data-api.json``: ``{"bars": {SYMBOL: [{"t","o","h","l","c","v","n","vw"}]},
"next_page_token"}``; pages are cut at ``page_size`` bars so clients must follow the token.
"""

from __future__ import annotations

import base64
import csv
import threading
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.standins.alpaca.orders import ApiError

ROOT = Path(__file__).resolve().parents[3]
NEW_YORK = ZoneInfo("America/New_York")
Json = dict[str, Any]


def parse_time(text: str) -> datetime:
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), UTC)
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def fmt_time(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_timeframe(tf: str) -> str:
    """alpaca-py sends ``1Day``/``1Min``; the API also accepts ``1D``, ``1T``, ``1H``."""
    for short, long in (("D", "Day"), ("T", "Min"), ("H", "Hour"), ("W", "Week"), ("M", "Month")):
        if tf.endswith(short) and tf[:-1].isdigit():
            return tf[:-1] + long
    return tf


class BarStore:
    def __init__(self, page_size: int = 10_000) -> None:
        self.page_size = page_size
        self.lock = threading.Lock()
        self._bars: dict[tuple[str, str], list[tuple[datetime, Json]]] = {}

    def add(
        self,
        symbol: str,
        timeframe: str,
        ts: datetime,
        o: float,
        h: float,
        lo: float,
        c: float,
        v: float,
        n: int | None = None,
        vw: float | None = None,
    ) -> None:
        bar = {
            "t": fmt_time(ts),
            "o": o,
            "h": h,
            "l": lo,
            "c": c,
            "v": v,
            "n": n if n is not None else 0,
            "vw": vw if vw is not None else round((h + lo + c) / 3, 4),
        }
        with self.lock:
            rows = self._bars.setdefault((symbol, normalize_timeframe(timeframe)), [])
            keys = [r[0] for r in rows]
            i = bisect_left(keys, ts)
            if i < len(rows) and rows[i][0] == ts:
                rows[i] = (ts, bar)
            else:
                rows.insert(i, (ts, bar))

    def load_csv_dir(self, folder: Path, timeframe: str) -> int:
        """Load ``SYMBOL*.csv`` files (``timestamp,open,high,low,close,volume``)."""
        count = 0
        for path in sorted(folder.glob("*.csv")):
            symbol = path.stem.split("_")[0].upper()
            with path.open() as fh:
                for row in csv.DictReader(fh):
                    stamp = row["timestamp"]
                    if len(stamp) == 10:  # a session date: Alpaca stamps it at midnight New York
                        ts = datetime.combine(
                            date.fromisoformat(stamp), time(0), NEW_YORK
                        ).astimezone(UTC)
                    else:
                        ts = parse_time(stamp)
                    self.add(
                        symbol,
                        timeframe,
                        ts,
                        float(row["open"]),
                        float(row["high"]),
                        float(row["low"]),
                        float(row["close"]),
                        float(row["volume"]),
                    )
                    count += 1
        return count

    def load_project_data(self) -> int:
        base = ROOT / "data" / "bars"
        return self.load_csv_dir(base / "daily", "1Day") + self.load_csv_dir(
            base / "minute", "1Min"
        )

    def last_close(self, symbol: str) -> float | None:
        with self.lock:
            best: tuple[datetime, Json] | None = None
            for (sym, _tf), rows in self._bars.items():
                if sym == symbol and rows and (best is None or rows[-1][0] > best[0]):
                    best = rows[-1]
        return None if best is None else float(best[1]["c"])

    def bars(self, params: dict[str, str]) -> Json:
        symbols = [s.strip().upper() for s in params.get("symbols", "").split(",") if s.strip()]
        if not symbols:
            raise ApiError(400, 40010001, "symbols is required")
        if "timeframe" not in params:
            raise ApiError(400, 40010001, "timeframe is required")
        tf = normalize_timeframe(params["timeframe"])
        start = (
            parse_time(params["start"]) if params.get("start") else datetime(1970, 1, 1, tzinfo=UTC)
        )
        end = parse_time(params["end"]) if params.get("end") else datetime.now(UTC)
        limit = min(int(params.get("limit") or 1000), 10_000, self.page_size)
        desc = params.get("sort") == "desc"
        flat: list[tuple[str, Json]] = []
        with self.lock:
            for sym in sorted(set(symbols)):
                rows = self._bars.get((sym, tf), [])
                keys = [r[0] for r in rows]
                chunk = rows[bisect_left(keys, start) : bisect_right(keys, end)]
                flat.extend((sym, bar) for _, bar in (reversed(chunk) if desc else chunk))
        offset = (
            int(base64.b64decode(params["page_token"]).decode()) if params.get("page_token") else 0
        )
        page = flat[offset : offset + limit]
        out: dict[str, list[Json]] = {}
        for sym, bar in page:
            out.setdefault(sym, []).append(dict(bar))
        nxt = offset + limit
        token = base64.b64encode(str(nxt).encode()).decode() if nxt < len(flat) else None
        return {"bars": out, "next_page_token": token}

    def latest(self, params: dict[str, str]) -> Json:
        symbols = [s.strip().upper() for s in params.get("symbols", "").split(",") if s.strip()]
        out: dict[str, Json] = {}
        with self.lock:
            for sym in symbols:
                rows = self._bars.get((sym, "1Min")) or self._bars.get((sym, "1Day")) or []
                if rows:
                    out[sym] = dict(rows[-1][1])
        return {"bars": out}


class NewsStore:
    """``GET /v1beta1/news``: articles added by tests (``add``), newest first, paged like Alpaca."""

    def __init__(self, page_size: int = 50) -> None:
        self.lock = threading.Lock()
        self.page_size = page_size
        self.items: list[Json] = []

    def add(
        self,
        *,
        headline: str,
        symbols: list[str],
        created_at: datetime,
        summary: str = "",
        content: str = "",
        source: str = "benzinga",
        author: str = "Benzinga Newsdesk",
        url: str | None = None,
    ) -> Json:
        with self.lock:
            item = {
                "id": len(self.items) + 1,
                "headline": headline,
                "summary": summary,
                "content": content,
                "author": author,
                "source": source,
                "url": url,
                "symbols": symbols,
                "images": [],
                "created_at": fmt_time(created_at),
                "updated_at": fmt_time(created_at),
            }
            self.items.append(item)
        return item

    def query(self, params: dict[str, str]) -> Json:
        symbols = {s.strip().upper() for s in params.get("symbols", "").split(",") if s.strip()}
        start = parse_time(params["start"]) if params.get("start") else None
        end = parse_time(params["end"]) if params.get("end") else None
        limit = min(int(params.get("limit") or 10), 50, self.page_size)
        with self.lock:
            rows = [
                n
                for n in self.items
                if (not symbols or symbols & set(n["symbols"]))
                and (start is None or parse_time(n["created_at"]) >= start)
                and (end is None or parse_time(n["created_at"]) <= end)
            ]
        rows.sort(key=lambda n: (n["created_at"], n["id"]), reverse=params.get("sort") != "asc")
        offset = (
            int(base64.b64decode(params["page_token"]).decode()) if params.get("page_token") else 0
        )
        page = rows[offset : offset + limit]
        nxt = offset + limit
        token = base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else None
        return {"news": [dict(n) for n in page], "next_page_token": token}
