"""API benchmark: the dashboard's reads at a steady rate, and fill commit -> WebSocket client.

With 10,000 trades, 100,000 bars and 20,000 articles stored (seeded once into a database of its
own), it starts the web process as production does (daphne, one process) and the event bridge
(``manage.py api_events``), then:

1. **Reads**: an open-loop client sends the dashboard's reads at a steady ``--rate`` (default 200
   requests/s) for ``--seconds``, round-robin over the endpoints the five views call, each with a
   valid access token; latency is measured per request from send to the last byte: p50/p99 per
   endpoint (goal: p99 < 50 ms).
2. **Realtime**: a WebSocket client (ticket, dashboard Origin) listens while fills are committed
   at ``--fill-rate`` per second: each fill is a transaction that writes its bus outbox row; the
   clock starts just before the commit and stops when the client has the event: p50/p99
   (goal: p99 < 100 ms).

Run: ``python -m bench.api_bench`` (DATABASE_URL / REDIS_URL of the machine; ``make bench`` runs it
with the others). The client runs on the same machine as the server, so the figures include its
CPU competition.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://localhost:8150"

N_TRADES = 10_000
N_BARS = 100_000
N_ARTICLES = 20_000
SYMBOLS = [f"S{i:02d}" for i in range(20)]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# --- data -----------------------------------------------------------------------------------------


def seed() -> dict[str, int]:
    """Bars, articles with sentiment, signals, trades with outcomes, snapshots, metrics (once)."""
    from django.db import transaction

    from apps.execution.models import Position, Trade
    from apps.learning.models import PortfolioSnapshot, StrategyMetric, TradeOutcome
    from apps.market.models import MarketBar
    from apps.news.models import Article, ArticleSentiment, NewsSource
    from apps.strategies.models import Signal, Strategy
    from apps.strategies.seed import strategies_seed

    strategies_seed()
    start = datetime(2000, 1, 3, tzinfo=UTC)
    if MarketBar.objects.count() < N_BARS:
        per = N_BARS // len(SYMBOLS)
        rows = []
        for s_i, sym in enumerate(SYMBOLS):
            price = 50.0 + s_i
            for d in range(per):
                price *= 1 + 0.01 * ((d * 7 + s_i) % 11 - 5) / 5
                p = Decimal(f"{price:.4f}")
                rows.append(
                    MarketBar(
                        symbol=sym,
                        timeframe="1Day",
                        time=start + timedelta(days=d),
                        open=p,
                        high=p * Decimal("1.01"),
                        low=p * Decimal("0.99"),
                        close=p,
                        volume=1000 + d,
                        source="bench",
                    )
                )
        MarketBar.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    if Article.objects.count() < N_ARTICLES:
        source, _ = NewsSource.objects.get_or_create(name="bench", defaults={"kind": "rss"})
        arts = [
            Article(
                source=source,
                title=f"Bench headline {i} about {SYMBOLS[i % 20]}",
                published_at=start + timedelta(hours=6 * i),
                fetched_at=start + timedelta(hours=6 * i, minutes=1),
                content_hash=f"bench-{i:08d}",
                tickers=[SYMBOLS[i % 20]],
            )
            for i in range(N_ARTICLES)
        ]
        with transaction.atomic():
            made = Article.objects.bulk_create(arts, batch_size=5000)
            ArticleSentiment.objects.bulk_create(
                [
                    ArticleSentiment(
                        article=a,
                        ticker=SYMBOLS[i % 20],
                        score=((i * 37) % 200 - 100) / 100,
                        confidence=0.5 + (i % 50) / 100,
                        model_used="bench@1",
                        tier=1 + (i % 7 == 0),
                    )
                    for i, a in enumerate(made)
                ],
                batch_size=5000,
            )
    if Trade.objects.count() < N_TRADES:
        strategies = list(Strategy.objects.values_list("name", flat=True))
        with transaction.atomic():
            sigs = Signal.objects.bulk_create(
                [
                    Signal(
                        ticker=SYMBOLS[i % 20],
                        direction="long",
                        strength=0.5,
                        strategy_sources=[
                            {"strategy": n, "score": 0.3, "weight": 0.33} for n in strategies
                        ],
                        decided_at=start + timedelta(days=i // 20 * 2, hours=i % 20),
                        price=Decimal("100"),
                    )
                    for i in range(N_TRADES // 2)
                ],
                batch_size=5000,
            )
            trades = []
            for i, sig in enumerate(sigs):
                t0 = sig.decided_at
                for leg, side in enumerate(("buy", "sell")):
                    trades.append(
                        Trade(
                            ticker=sig.ticker,
                            side=side,
                            qty=Decimal(10),
                            filled_qty=Decimal(10),
                            price=Decimal("100") + leg * ((i % 7) - 3),
                            purpose="entry" if leg == 0 else "exit",
                            timestamp=t0 + timedelta(days=leg),
                            strategy=strategies[i % len(strategies)],
                            signal=sig,
                            status="filled",
                            pnl=None if leg == 0 else Decimal(10 * ((i % 7) - 3)),
                            client_order_id=f"tb-bench-{i:06d}-{leg}",
                            filled_at=t0 + timedelta(days=leg),
                        )
                    )
            filled = Trade.objects.bulk_create(trades, batch_size=5000)
            TradeOutcome.objects.bulk_create(
                [
                    TradeOutcome(
                        trade=filled[2 * i],
                        exit_trade=filled[2 * i + 1],
                        ticker=filled[2 * i].ticker,
                        hold_duration=timedelta(days=1),
                        realized_pnl=filled[2 * i + 1].pnl or Decimal(0),
                        roi_pct=float((filled[2 * i + 1].pnl or 0) / 10),
                        was_profitable=(filled[2 * i + 1].pnl or 0) > 0,
                        attribution={n: 1 / len(strategies) for n in strategies},
                        closed_at=filled[2 * i + 1].timestamp,
                    )
                    for i in range(len(filled) // 2)
                ],
                batch_size=5000,
            )
    broker = os.environ.get("BROKER", "simulated")
    if not PortfolioSnapshot.objects.filter(broker=broker).exists():
        PortfolioSnapshot.objects.bulk_create(
            [
                PortfolioSnapshot(
                    broker=broker,
                    time=start + timedelta(hours=i),
                    value=Decimal(100_000 + 10 * i),
                    cash=Decimal(50_000),
                    exposure=Decimal(50_000 + 10 * i),
                    daily_pnl=Decimal(10),
                    drawdown=0.01,
                )
                for i in range(5000)
            ],
            batch_size=5000,
        )
        for i, s in enumerate(Strategy.objects.all()):
            StrategyMetric.objects.bulk_create(
                [
                    StrategyMetric(
                        strategy=s,
                        time=start + timedelta(days=d),
                        trades=d,
                        win_rate=0.5,
                        pnl=Decimal(d),
                        sharpe=1.0 + i,
                        weight=s.weight,
                    )
                    for d in range(1000)
                ],
                ignore_conflicts=True,
            )
        Position.objects.bulk_create(
            [
                Position(
                    broker=broker,
                    ticker=sym,
                    qty=Decimal(10),
                    avg_entry=Decimal(100),
                    last_price=Decimal(101),
                    unrealized_pnl=Decimal(10),
                    opened_at=start,
                )
                for sym in SYMBOLS[:5]
            ],
            ignore_conflicts=True,
        )
    return {
        "trades": Trade.objects.count(),
        "bars": MarketBar.objects.count(),
        "articles": Article.objects.count(),
    }


def reads() -> list[tuple[str, str]]:
    """(label, path) of the dashboard's reads, the ids taken from the stored data."""
    from apps.execution.models import Trade

    trade = (
        Trade.objects.filter(purpose="entry").order_by("-timestamp").values_list("id", flat=True)
    )
    return [
        ("portfolio", "/api/portfolio"),
        ("equity", "/api/portfolio/equity?points=500"),
        ("positions", "/api/portfolio/positions"),
        ("trades", "/api/trades?limit=50"),
        ("trades?ticker&profitable", f"/api/trades?ticker={SYMBOLS[3]}&profitable=true&limit=50"),
        ("trade detail (why)", f"/api/trades/{trade[0]}"),
        ("strategies", "/api/strategies"),
        ("strategy metrics", "/api/strategies/metrics?limit=200"),
        ("adjustments", "/api/strategies/adjustments"),
        ("articles?ticker", f"/api/news/articles?ticker={SYMBOLS[5]}&limit=50"),
        ("sentiment series", f"/api/news/sentiment/{SYMBOLS[5]}?since=2010-01-01&until=2012-12-31"),
        ("backtests", "/api/backtests"),
        ("control", "/api/control"),
        ("events?since", "/api/events?since=0-0&limit=100"),
    ]


# --- processes ------------------------------------------------------------------------------------


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_http(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


# --- phases ---------------------------------------------------------------------------------------


async def read_load(
    base: str, token: str, paths: list[tuple[str, str]], rate: float, seconds: float
) -> dict[str, list[float]]:
    import httpx

    results: dict[str, list[float]] = {label: [] for label, _ in paths}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=10
    ) as client:

        async def one(label: str, path: str) -> None:
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.HTTPError as exc:  # a timeout under overload counts, it is not a crash
                key = f"{label}:{type(exc).__name__}"
                errors[key] = errors.get(key, 0) + 1
                return
            dt = (time.perf_counter() - t0) * 1000
            if r.status_code == 200:
                results[label].append(dt)
            else:
                errors[f"{label}:{r.status_code}"] = errors.get(f"{label}:{r.status_code}", 0) + 1

        for label, path in paths:  # warm-up: one of each
            await one(label, path)
        for v in results.values():
            v.clear()
        tasks = []
        n = int(rate * seconds)
        t_start = time.perf_counter()
        for i in range(n):
            due = t_start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            label, path = paths[i % len(paths)]
            tasks.append(asyncio.create_task(one(label, path)))
        await asyncio.gather(*tasks)
        achieved = n / (time.perf_counter() - t_start)
    if errors:
        print("  non-200 answers:", errors)
    print(
        f"  offered {rate:.0f} req/s for {seconds:.0f} s; achieved {achieved:.1f} req/s over {n} requests"
    )
    return results


async def ws_latency(base_ws: str, base: str, token: str, fills: int, rate: float) -> list[float]:
    import httpx
    import websockets
    from asgiref.sync import sync_to_async

    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        ticket = (await c.post("/api/ws-ticket")).json()["ticket"]
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    async with websockets.connect(f"{base_ws}/ws/?ticket={ticket}", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello

        async def listen() -> None:
            while len(got) < fills:
                msg = json.loads(await ws.recv())
                if msg.get("type") == "trade.executed":
                    got[int(msg["data"]["trade_id"])] = time.perf_counter()

        listener = asyncio.create_task(listen())
        commit = sync_to_async(fill_commit, thread_sensitive=True)
        await asyncio.sleep(0.5)
        base_id = 10_000_000 + secrets.randbelow(1_000_000) * 100
        for i in range(fills):
            sent[base_id + i] = await commit(base_id + i)
            await asyncio.sleep(1 / rate)
        try:
            await asyncio.wait_for(listener, timeout=30)
        except TimeoutError:
            print(f"  {fills - len(got)} events not received within 30 s")
    return [(got[k] - sent[k]) * 1000 for k in sent if k in got]


def fill_commit(trade_id: int) -> float:
    """One fill's transaction: its bus outbox row commits (and is XADDed after commit). Returns the
    perf_counter just before the commit."""
    from django.db import transaction

    from apps.bus.names import Stream
    from apps.bus.outbox import publish
    from apps.execution.contracts import TradeEvent

    with transaction.atomic():
        publish(
            Stream.TRADES_EXECUTED,
            TradeEvent(
                trade_id=trade_id,
                client_order_id=f"tb-bench-ws-{trade_id}",
                ticker="S01",
                side="buy",
                qty=Decimal(10),
                status="filled",
                timestamp=datetime.now(UTC),
                price=Decimal("101.5"),
            ),
            event_id=uuid.uuid4(),
        )
        t0 = time.perf_counter()
    return t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fills", type=int, default=300)
    parser.add_argument("--fill-rate", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="web processes (1: daphne as in the Procfile; N: uvicorn)",
    )
    args = parser.parse_args()

    os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(48))
    os.environ["DASHBOARD_ORIGIN"] = ORIGIN
    os.environ["API_ORIGIN"] = ORIGIN
    from bench._db import setup_django

    setup_django("tradebot_api_bench")
    t0 = time.perf_counter()
    counts = seed()
    print(f"data: {counts} (seeded/checked in {time.perf_counter() - t0:.1f} s)")

    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.api.auth.tokens import session_start
    from apps.api.realtime.bridge import GROUP

    user, _ = get_user_model().objects.get_or_create(username="bench")
    token = session_start(user=user).access
    paths = reads()

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": _db_url(connection.settings_dict)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DJANGO_SETTINGS_MODULE"] = "tradebot.settings.base"
    env["DJANGO_ALLOWED_HOSTS"] = "localhost,127.0.0.1"
    env.setdefault("DATABASE_POOL", "true")  # as the Procfile's web process
    from apps.core.redis_client import redis_client

    for stream in ("trades:executed", "signals:generated", "news:scored"):
        with contextlib.suppress(Exception):  # no group yet
            redis_client().xgroup_destroy(stream, GROUP)
    if args.workers > 1:
        server = [
            sys.executable,
            "-m",
            "uvicorn",
            "--workers",
            str(args.workers),
            "--no-access-log",
        ]
        server += ["--host", "127.0.0.1", "--port", str(args.port), "tradebot.asgi:application"]
    else:
        server = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(args.port)]
        server += ["tradebot.asgi:application"]
    web = start(server, env)
    bridge = start([sys.executable, "manage.py", "api_events"], env)
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_http(f"{base}/healthz")
        time.sleep(2.0)  # the bridge creates its consumer group
        kind = f"uvicorn, {args.workers} processes" if args.workers > 1 else "daphne, one process"
        print(f"\nreads at a steady {args.rate:.0f} req/s ({kind}; client on the same machine)")
        results = asyncio.run(read_load(base, token, paths, args.rate, args.seconds))
        print(f"  {'endpoint':28} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
        for label, values in results.items():
            print(f"  {label:28} {len(values):5d} {pct(values, 0.5):8.1f} {pct(values, 0.99):8.1f}")
        every = [v for vs in results.values() for v in vs]
        print(f"  {'all':28} {len(every):5d} {pct(every, 0.5):8.1f} {pct(every, 0.99):8.1f}")

        print(f"\nfill commit -> WebSocket client ({args.fills} fills at {args.fill_rate:.0f}/s)")
        token = session_start(user=user).access  # a fresh one: the read phase may have outlived it
        lat = asyncio.run(
            ws_latency(f"ws://127.0.0.1:{args.port}", base, token, args.fills, args.fill_rate)
        )
        if lat:
            print(
                f"  received {len(lat)}/{args.fills}: p50 {pct(lat, 0.5):.1f} ms, "
                f"p99 {pct(lat, 0.99):.1f} ms, max {max(lat):.1f} ms, mean {statistics.fmean(lat):.1f} ms"
            )
    finally:
        for p in (web, bridge):
            p.terminate()
        for p in (web, bridge):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def _db_url(db: dict[str, Any]) -> str:
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db['USER']}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


if __name__ == "__main__":
    main()
