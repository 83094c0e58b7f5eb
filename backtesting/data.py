"""Input data for backtests (pure, no ORM): frames from arrays/CSV, point-in-time news, hashing.

Everything the engine replays is a :class:`~apps.strategies.base.MarketFrame` per symbol — the same
value the live pipeline hands to strategies. News enters as a :class:`SentimentSeries` stamped with
the time each item became *visible* (``published_at`` + processing latency); undated items are
dropped here, so no strategy can ever see a headline before the bot could have.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import numpy as np

from apps.strategies.base import FloatArray, IntArray, MarketFrame, SentimentSeries

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S


def to_ns(value: datetime) -> int:
    """A datetime as integer ns since the epoch, UTC (a naive datetime is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return int(np.datetime64(value, "ns").astype(np.int64))


def from_ns(value: int) -> datetime:
    """Inverse of :func:`to_ns` (microsecond precision), timezone-aware UTC."""
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(value) // 1000)


def frame_build(
    *,
    ticker: str,
    time: Sequence[int] | IntArray,
    open: Sequence[float] | FloatArray,
    high: Sequence[float] | FloatArray,
    low: Sequence[float] | FloatArray,
    close: Sequence[float] | FloatArray,
    volume: Sequence[float] | FloatArray | None = None,
    sentiment: SentimentSeries | None = None,
) -> MarketFrame:
    """A frame from columns; rows are sorted by time and duplicate times keep the first row."""
    t = np.asarray(time, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    keep = np.ones(t.shape[0], dtype=bool)
    keep[1:] = t[1:] != t[:-1]
    idx = order[keep]

    def col(values: Sequence[float] | FloatArray | None) -> FloatArray:
        if values is None:
            return np.zeros(idx.shape[0])
        return np.ascontiguousarray(np.asarray(values, dtype=np.float64)[idx])

    return MarketFrame(
        ticker=ticker,
        time=np.ascontiguousarray(t[keep]),
        open=col(open),
        high=col(high),
        low=col(low),
        close=col(close),
        volume=col(volume),
        sentiment=sentiment if sentiment is not None else SentimentSeries.empty(),
    )


def frame_from_csv(path: Path, *, ticker: str) -> MarketFrame:
    """Read OHLCV from a CSV with a date/time first column (backtesting.py's layout:
    ``,Open,High,Low,Close,Volume``) or a ``timestamp,open,high,low,close,volume`` header."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip().lower() for h in rows[0]]
    body = rows[1:]
    pos = {name: header.index(name) for name in ("open", "high", "low", "close")}
    vol_i = header.index("volume") if "volume" in header else None
    times = np.array([np.datetime64(r[0].replace("Z", "")) for r in body], dtype="datetime64[ns]")
    return frame_build(
        ticker=ticker,
        time=times.astype(np.int64),
        open=[float(r[pos["open"]]) for r in body],
        high=[float(r[pos["high"]]) for r in body],
        low=[float(r[pos["low"]]) for r in body],
        close=[float(r[pos["close"]]) for r in body],
        volume=[float(r[vol_i]) for r in body] if vol_i is not None else None,
    )


def goog_csv_path() -> Path | None:
    """backtesting.py's bundled ``GOOG.csv`` (daily 2004-08-19..2013-03-01), read in place from the
    installed distribution. It is not copied into this repository: the package is AGPL-3.0. Found
    through package metadata rather than ``import backtesting``, which is our own package here."""
    try:
        dist = metadata.distribution("backtesting")
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("backtesting/test/GOOG.csv")))
    return path if path.is_file() else None


def frame_tile_mirror(frame: MarketFrame, n_bars: int) -> MarketFrame:
    """Tile a series to ``n_bars`` by mirroring (see data/reference SOURCE.md): a forward copy, then
    a time-reversed copy with open and close swapped, alternating, so every seam joins exactly and
    prices stay in the original range. Timestamps are one minute apart from the first bar."""
    n = len(frame)
    fwd = np.stack([frame.open, frame.high, frame.low, frame.close, frame.volume])
    rev = np.stack([frame.close[::-1], frame.high[::-1], frame.low[::-1], frame.open[::-1]])
    rev = np.vstack([rev, frame.volume[::-1][None, :]])
    reps = -(-n_bars // n)
    blocks = [fwd if k % 2 == 0 else rev for k in range(reps)]
    data = np.concatenate(blocks, axis=1)[:, :n_bars]
    t0 = int(frame.time[0])
    return MarketFrame(
        ticker=frame.ticker,
        time=t0 + np.arange(n_bars, dtype=np.int64) * NS_PER_MIN,
        open=np.ascontiguousarray(data[0]),
        high=np.ascontiguousarray(data[1]),
        low=np.ascontiguousarray(data[2]),
        close=np.ascontiguousarray(data[3]),
        volume=np.ascontiguousarray(data[4]),
    )


def sentiment_build(
    *,
    published_at: Iterable[datetime | None],
    score: Iterable[float],
    confidence: Iterable[float],
    latency_s: float,
) -> tuple[SentimentSeries, int]:
    """Point-in-time sentiment: ``visible_at = published_at + latency``; undated items dropped.

    Returns the series (sorted by visibility) and how many items were dropped for having no date.
    """
    vis: list[int] = []
    sc: list[float] = []
    cf: list[float] = []
    dropped = 0
    latency_ns = round(latency_s * NS_PER_S)
    for pub, s, c in zip(published_at, score, confidence, strict=True):
        if pub is None:
            dropped += 1
            continue
        vis.append(to_ns(pub) + latency_ns)
        sc.append(float(s))
        cf.append(float(c))
    if dropped:
        log.info("backtest news: dropped %d undated item(s) (no published_at)", dropped)
    if not vis:
        return SentimentSeries.empty(), dropped
    v = np.asarray(vis, dtype=np.int64)
    order = np.argsort(v, kind="stable")
    return (
        SentimentSeries(
            visible_at=v[order],
            score=np.clip(np.asarray(sc)[order], -1.0, 1.0),
            confidence=np.clip(np.asarray(cf)[order], 0.0, 1.0),
        ),
        dropped,
    )


def frame_slice(frame: MarketFrame, start_ns: int | None, end_ns: int | None) -> MarketFrame:
    """Bars with ``start <= time <= end``; the news keeps everything visible up to ``end``
    (older news is history a strategy may legitimately use)."""
    a = 0 if start_ns is None else int(np.searchsorted(frame.time, start_ns, side="left"))
    b = len(frame) if end_ns is None else int(np.searchsorted(frame.time, end_ns, side="right"))
    s = frame.sentiment
    k = (
        s.visible_at.shape[0]
        if end_ns is None
        else int(np.searchsorted(s.visible_at, end_ns, "right"))
    )
    return MarketFrame(
        ticker=frame.ticker,
        time=frame.time[a:b],
        open=frame.open[a:b],
        high=frame.high[a:b],
        low=frame.low[a:b],
        close=frame.close[a:b],
        volume=frame.volume[a:b],
        sentiment=SentimentSeries(s.visible_at[:k], s.score[:k], s.confidence[:k]),
    )


def frames_hash(frames: Mapping[str, MarketFrame]) -> str:
    """SHA-256 of every input array (bars and visible news), in ticker order: two runs with the
    same hash saw exactly the same data."""
    h = hashlib.sha256()
    for ticker in sorted(frames):
        f = frames[ticker]
        h.update(ticker.encode() + b"\0")
        for arr in (f.time, f.open, f.high, f.low, f.close, f.volume):
            h.update(np.ascontiguousarray(arr).tobytes())
        s = f.sentiment
        for arr in (s.visible_at, s.score, s.confidence):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()
