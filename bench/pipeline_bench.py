"""Pipeline benchmark: from an article's arrival to the order at the broker, through real workers.

Articles (the bundled StockNet tweets, each naming a traded ticker) are handed to the news stage's
own ingest service at a steady rate -- as a poll that just returned them, so the polling interval
is excluded -- and flow through real Celery workers, one per stage queue as in production:
sentiment (the configured tier: FinBERT, the trained model, or the VADER fallback) -> signals
(strategies + ensemble on the stored bars) -> execution (risk, then the simulated broker).

Timing comes from the trace each article starts (``news article`` span): the workers export their
spans over OTLP to a local stand-in collector, and each article's latency is

* **decision**: arrival -> the execution stage's consumer span for its signal ends (every article
  naming a traded ticker gets a signal and an execution decision; most decisions are "no order",
  e.g. a position is already open);
* **order**: arrival -> the ``order submit`` span ends (the broker accepted the order), for the
  articles whose signal became an order.

Also: the highest rate sustained for a minute without the backlog growing, and the throughput of
each stage draining a backlog -- sentiment with one and with two workers.

Run: ``python -m bench.pipeline_bench`` (or ``make bench``). Uses the bench database
(``tradebot_bench``) and the Redis of ``REDIS_URL`` (``make bench``: DB 11), which it empties.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from tests.workers import celery_worker_argv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TWEETS = ROOT / "data" / "news" / "stocknet_tweets_2015q4.jsonl"
GROUPS = (("news:raw", "sentiment"), ("news:scored", "signals"), ("signals:generated", "execution"))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Workers:
    """Real Celery workers (solo pool), one process per entry, stopped together."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self, queue: str, extra: dict[str, str] | None = None) -> None:
        n = self.started
        self.started += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"worker{n}-{queue}.log", "wb")  # noqa: SIM115 - the child's
        self.procs.append(
            subprocess.Popen(
                celery_worker_argv([queue], f"pipe{n}-{queue}", loglevel="WARNING"),
                cwd=ROOT,
                env={**os.environ, **self.env, **(extra or {}), "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()

    def start_many(self, queue: str, k: int, extra: dict[str, str] | None = None) -> None:
        for _ in range(k):
            self.start(queue, extra)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []


def tweets() -> list[tuple[str, str]]:
    from django.conf import settings

    traded = set(settings.TRADING_SYMBOLS)
    rows = [json.loads(line) for line in TWEETS.read_text().splitlines() if line.strip()]
    return [(r["text"], r["ticker"]) for r in rows if r["ticker"] in traded]


def reset() -> None:
    """Empty the bench's Redis and the pipeline's tables (bars and strategies stay)."""
    from apps.core.models import OutboxMessage, ProcessedMessage
    from apps.core.redis_client import redis_client
    from apps.execution.models import Position, Trade, TradeUpdate
    from apps.news.models import Article
    from apps.strategies.models import Signal

    redis_client().flushdb()
    for model in (TradeUpdate, Trade, Position, Signal, Article, ProcessedMessage, OutboxMessage):
        model.objects.all().delete()
    from apps.bus.topology import consumer_for, routes_of

    for stream, _ in GROUPS:  # the groups exist before anything is published: lag counts
        for r in routes_of(stream):  # a partitioned stage: each partition's group
            consumer_for(r.group)().ensure_group()
    prices()


def flat() -> None:
    """No positions, no orders (here and at the simulated broker): the next long signal of each
    ticker is an entry, so a latency run sees orders and not only "already in a position"."""
    from apps.execution.models import Position, Trade, TradeUpdate
    from apps.execution.services import broker_default

    for model in (TradeUpdate, Trade, Position):
        model.objects.all().delete()
    broker: Any = broker_default()
    broker.reset()
    prices()
    settle()


def settle() -> None:
    """VACUUM ANALYZE the tables the bench just emptied: a run starts from the steady state a
    running bot is in, not in the middle of autovacuum catching up with thousands of deletes
    (which otherwise lands in the first seconds of a row as a multi-second stall)."""
    from django.db import connection

    from apps.core.models import OutboxMessage, ProcessedMessage
    from apps.execution.models import Position, Trade, TradeUpdate
    from apps.news.models import Article, ArticleSentiment
    from apps.strategies.models import Signal

    tables = (
        TradeUpdate, Trade, Position, Signal, Article, ArticleSentiment, ProcessedMessage,
        OutboxMessage,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(m._meta.db_table for m in tables))


def prices() -> None:
    """The simulated broker's last price of each traded symbol: its last stored close."""
    from django.conf import settings
    from django.utils import timezone

    from apps.execution.services import broker_default
    from apps.market.models import MarketBar

    broker: Any = broker_default()
    for sym in settings.TRADING_SYMBOLS:
        bar = MarketBar.objects.filter(symbol=sym, timeframe="1Day").order_by("-time").first()
        if bar is not None:
            c = bar.close
            broker.on_bar(
                sym, time=timezone.now() - timedelta(minutes=5), open=c, high=c, low=c, close=c
            )


def backlog() -> int:
    """Entries not yet acknowledged by the three stages (lag + pending), summed."""
    from apps.core.redis_client import redis_client

    r = redis_client()
    total = 0
    for stream, group in GROUPS:
        if not r.exists(stream):
            continue
        for info in r.xinfo_groups(stream):
            name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
            if name == group or name.startswith(f"{group}."):  # or its partitions
                total += int(info.get("lag") or 0) + int(info.get("pending") or 0)
    return total


class Feed:
    """Hands articles to the news stage's ingest service, as a poll that returned them."""

    def __init__(self) -> None:
        from apps.news.models import NewsSource
        from apps.news.tickers import default_extractor

        self.items = tweets()
        self.extractor = default_extractor()
        self.source, _ = NewsSource.objects.get_or_create(
            name="bench feed", defaults={"kind": NewsSource.Kind.RSS}
        )
        self.n = 0
        self.arrivals: dict[str, float] = {}  # url -> wall time it was handed to the stage

    def ingest(self, k: int) -> None:
        from django.utils import timezone

        from apps.news.services import article_ingest
        from apps.news.sources.base import FetchedItem

        now = timezone.now()
        batch = []
        for _ in range(k):
            text, ticker = self.items[self.n % len(self.items)]
            url = f"https://bench.invalid/{time.time_ns()}/{self.n}"
            self.n += 1
            batch.append(
                FetchedItem(
                    title=text,
                    url=url,
                    # A summary of its own: the tweets repeat, and a repeated story is deduplicated.
                    summary=f"bench item {self.n}",
                    published_at=now - timedelta(seconds=30),
                    tickers=(ticker,),
                )
            )
        t = time.time()
        for item in batch:
            self.arrivals[item.url] = t
        result = article_ingest(source=self.source, items=batch, extractor=self.extractor)
        if result.stored != len(batch):
            raise RuntimeError(f"the news stage stored {result.stored} of {len(batch)} articles")

    def steady(self, rate: float, seconds: float, tick: float = 0.01) -> float:
        """Publish at ``rate`` for ``seconds``; returns the rate achieved."""
        t0 = time.perf_counter()
        sent = 0
        while True:
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
            due = int(elapsed * rate) + 1 - sent
            if due > 0:
                self.ingest(due)
                sent += due
            else:
                time.sleep(tick)
        return sent / (time.perf_counter() - t0)


def wait_until(pred: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False


def drained() -> bool:
    from apps.core.models import OutboxMessage

    return backlog() == 0 and not OutboxMessage.objects.exists()


def latencies(
    feed: Feed, collector: Any, memory: Any, since: float = 0.0
) -> dict[str, list[float]]:
    """Per-article latencies (ms) from the trace of each article, for the articles that arrived
    at or after ``since`` (wall time); ``decision_all`` also counts those before it."""
    from apps.news.models import Article

    urls = dict(Article.objects.filter(url__in=list(feed.arrivals)).values_list("pk", "url"))
    arrival_of_trace: dict[int, float] = {}
    for span in memory.get_finished_spans():
        if span.name == "news article":
            url = urls.get(int(span.attributes.get("tradebot.article.id", -1)))
            if url is not None:
                arrival_of_trace[span.context.trace_id] = feed.arrivals[url]
    ends: dict[str, dict[int, float]] = {"sentiment": {}, "signal": {}, "decision": {}, "order": {}}
    names = {
        "consume news:raw": "sentiment",
        "consume news:scored": "signal",
        "consume signals:generated": "decision",
        "order submit": "order",
    }
    with collector.lock:
        spans = list(collector.spans)
    for s in spans:
        kind = names.get(s["name"])
        if kind is None or s["trace_id"] not in arrival_of_trace:
            continue
        end = s["end_ns"] / 1e9
        prev = ends[kind].get(s["trace_id"])
        # an article naming several tickers: its decision is done when the last one is
        ends[kind][s["trace_id"]] = end if prev is None else max(prev, end)
    out: dict[str, list[float]] = {
        kind: [
            (end - arrival_of_trace[tid]) * 1000
            for tid, end in by_trace.items()
            # orders come from each ticker's first signals: the ramp-up is where they happen
            if arrival_of_trace[tid] >= since or kind == "order"
        ]
        for kind, by_trace in ends.items()
    }
    out["decision_all"] = [
        (end - arrival_of_trace[tid]) * 1000 for tid, end in ends["decision"].items()
    ]
    # When each slow decision happened (s after the first arrival): a burst of slow ones is a
    # stall (a checkpoint, a collection), slow ones spread out are queueing.
    t0 = min(arrival_of_trace.values(), default=0.0)
    out["slow_at"] = sorted(
        round(arrival_of_trace[tid] - t0, 2)
        for tid, end in ends["decision"].items()
        if (end - arrival_of_trace[tid]) * 1000 > 200
    )
    return out


def Count(field: str) -> Any:  # noqa: N802 - Django's aggregate, imported late
    from django.db.models import Count as C

    return C(field)


def run_rate(
    feed: Feed, collector: Any, memory: Any, rate: float, seconds: float, warmup: float = 0.0
) -> dict[str, Any]:
    """``seconds`` at ``rate`` measured, after ``warmup`` seconds at the same rate (the step from
    idle to the rate: first orders, caches) that count only in ``decision_all``."""
    wait_until(drained, 120)
    time.sleep(2)  # orders are sent after their batch is acknowledged: let the last ones finish
    flat()
    feed.arrivals.clear()
    memory.clear()
    with collector.lock:
        collector.spans.clear()
    started = time.time()
    achieved = feed.steady(rate, seconds + warmup)
    wait_until(drained, 120)
    time.sleep(1.5)  # the workers' span export interval
    lat = latencies(feed, collector, memory, since=started + warmup)
    from apps.core.models import ProcessedMessage

    with collector.lock:
        names = sorted({s["name"] for s in collector.spans})
    print(
        f"... {rate:.0f}/s: {len(feed.arrivals)} articles, receipts "
        f"{dict(ProcessedMessage.objects.values_list('group').annotate(n=Count('id')))}, "
        f"backlog {backlog()}, spans received {names}",
        file=sys.stderr,
        flush=True,
    )
    return {"rate": rate, "achieved": achieved, "articles": len(feed.arrivals), **lat}


def sustained(feed: Feed, rates: list[float], seconds: float) -> list[dict[str, Any]]:
    """A minute at each rate; sustained if the backlog (entries not yet acknowledged by the three
    stages, sampled every 5 s) did not keep growing: the last sample is not above the first half's
    highest by more than a second of arrivals."""
    out = []
    for rate in rates:
        samples: list[int] = []
        t0 = time.perf_counter()
        sent = 0
        next_sample = 5.0
        while (elapsed := time.perf_counter() - t0) < seconds:
            due = int(elapsed * rate) + 1 - sent
            if due > 0:
                feed.ingest(due)
                sent += due
            else:
                time.sleep(0.01)
            if elapsed >= next_sample:
                samples.append(backlog())
                next_sample += 5.0
        achieved = sent / (time.perf_counter() - t0)
        end = backlog()
        half = samples[: max(1, len(samples) // 2)]
        # What is in flight (batches being scored, decided, sent) stays; what grows is a backlog.
        ok = end <= max(half) + rate and achieved >= 0.95 * rate
        out.append(
            {"rate": rate, "achieved": achieved, "backlog": [*samples, end], "sustained": ok}
        )
        print(
            f"... {rate:.0f}/s for {seconds:.0f}s: achieved {achieved:.0f}/s, backlog every 5 s "
            f"{[*samples, end]} -> {'sustained' if ok else 'NOT sustained'}",
            file=sys.stderr,
            flush=True,
        )
        wait_until(drained, 300)
        if not ok:
            break
    return out


def drain_rate(group: str, n: int, start: Callable[[], None], timeout: float = 600) -> float:
    """Start the workers of ``group`` on a backlog of ``n`` messages: messages per second from the
    first committed batch to the last (worker start-up and the first batch excluded)."""
    from apps.core.models import ProcessedMessage

    def done() -> int:
        return ProcessedMessage.objects.filter(group=group).count()

    start()
    wait_until(lambda: done() > 0, 180, every=0.02)
    t0, c0 = time.perf_counter(), done()
    wait_until(lambda: done() >= n, timeout, every=0.05)
    t1, c1 = time.perf_counter(), done()
    print(f"... {group}: {c0} -> {c1} in {t1 - t0:.2f}s", file=sys.stderr, flush=True)
    return (c1 - c0) / (t1 - t0) if t1 > t0 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="10,100", help="steady rates for the latency rows")
    ap.add_argument("--seconds", type=float, default=30, help="measured per latency row")
    ap.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="seconds at a row's rate before it is measured (reported apart as 'with ramp-up')",
    )
    ap.add_argument("--sustain", default="100,150,225,340", help="rates tried for a minute each")
    ap.add_argument("--sustain-seconds", type=float, default=60)
    ap.add_argument(
        "--backlog",
        type=int,
        default=6000,
        help="articles in the backlog runs (the sentiment stage commits 512 per micro-batch)",
    )
    ap.add_argument(
        "--finbert", default="", help="model dir for the sentiment tier (FINBERT_MODEL)"
    )
    ap.add_argument(
        "--partitions",
        type=int,
        default=1,
        help="key partitions (and workers) of the signals and execution stages (BUS_PARTITIONS)",
    )
    ap.add_argument("--skip-sustain", action="store_true")
    ap.add_argument("--skip-steady", action="store_true")
    ap.add_argument("--skip-backlog", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--db", default="tradebot_bench", help="database of the bench (created)")
    args = ap.parse_args()

    from tests.standins.otlp import OtlpStandIn

    collector = OtlpStandIn().__enter__()
    worker_env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BSP_MAX_QUEUE_SIZE": "65536",
    }
    if args.finbert:
        worker_env["FINBERT_MODEL"] = args.finbert
    if args.partitions > 1:
        split = f"signals={args.partitions},execution={args.partitions}"
        os.environ["BUS_PARTITIONS"] = worker_env["BUS_PARTITIONS"] = split
    from bench._db import setup_django

    setup_django(args.db)
    from django.core.management import call_command
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from apps.market.models import MarketBar
    from apps.strategies.seed import strategies_seed

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)

    strategies_seed()
    if not MarketBar.objects.exists():
        call_command("load_bars", verbosity=0)
    reset()
    feed = Feed()
    workers = Workers(worker_env, args.out / "pipeline-workers")
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()}
    try:
        workers.start("sentiment")
        for q in ("signals", "execution"):
            workers.start_many(q, args.partitions)
        # Warm-up: the workers boot, load code and the scorer, open connections.
        from apps.core.models import ProcessedMessage

        feed.steady(5, 2)
        wait_until(
            lambda: ProcessedMessage.objects.filter(group__startswith="execution").exists(), 300
        )
        wait_until(drained, 180)
        results["steady"] = [
            run_rate(feed, collector, memory, float(r), args.seconds, args.warmup)
            for r in ([] if args.skip_steady else args.rates.split(","))
        ]
        if not args.skip_sustain:
            results["sustain"] = sustained(
                feed, [float(r) for r in args.sustain.split(",")], args.sustain_seconds
            )
        workers.stop()

        if not args.skip_backlog:
            from apps.news.models import Article

            stages: dict[str, float] = {}
            for n_workers in (1, 2):
                reset()
                before = Article.objects.count()
                while Article.objects.count() - before < args.backlog:
                    feed.ingest(250)
                extra = {"BUS_DRAINS": f"sentiment={n_workers}"}
                stages[f"sentiment x{n_workers}"] = drain_rate(
                    "sentiment",
                    args.backlog,
                    partial(workers.start_many, "sentiment", n_workers, extra),
                )
                workers.stop()
            # The last backlog now waits on news:scored, then on signals:generated.
            from apps.strategies.models import Signal

            stages["signals"] = drain_rate(
                "signals", args.backlog, partial(workers.start, "signals")
            )
            stages["execution"] = drain_rate(
                "execution", Signal.objects.count(), partial(workers.start, "execution")
            )
            workers.stop()
            results["stages"] = stages
    finally:
        workers.stop()
        collector.__exit__()

    from apps.sentiment.selectors import scorer_choose

    scorer = scorer_choose() if not args.finbert else None
    tier = scorer.scorer.model_used if scorer else f"finbert:{args.finbert}"
    print(
        f"\npipeline bench: article -> order, real workers (solo; one for sentiment, "
        f"{args.partitions} each for signals and execution in as many key partitions), "
        f"{os.cpu_count()} cores, load before {results['load_before'][0]:.1f}; sentiment tier "
        f"{tier}; traced (OTLP to a local collector)"
    )
    print(f"{'measurement':46} {'articles':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for row in results.get("steady", []):
        for kind, label in (
            ("sentiment", "to scored (sentiment stage)"),
            ("signal", "to signal decided (signals stage)"),
            ("decision", "to execution decision"),
            ("decision_all", "to execution decision, with ramp-up"),
            ("order", "to order accepted at the broker, with ramp-up"),
        ):
            vals = row[kind]
            print(
                f"{row['rate']:>5.0f}/s {label:38} {len(vals):>8} {pct(vals, 0.5):>8.1f} "
                f"{pct(vals, 0.99):>8.1f} {max(vals, default=float('nan')):>8.1f}"
            )
    if "sustain" in results:
        ok = [r["rate"] for r in results["sustain"] if r["sustained"]]
        print(
            f"highest rate sustained for {args.sustain_seconds:.0f} s without backlog growth: "
            f"{max(ok) if ok else 'none of'} articles/s (tried "
            + ", ".join(f"{r['rate']:.0f}" for r in results["sustain"])
            + ")"
        )
    for stage, rate in results.get("stages", {}).items():
        print(f"stage throughput on a backlog of {args.backlog}: {stage:14} {rate:>8.0f} msg/s")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        **results,
        "steady": [
            {
                k: (
                    {"n": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99)}
                    if isinstance(v, list) and k != "slow_at"
                    else v
                )
                for k, v in row.items()
            }
            for row in results.get("steady", [])
        ],
        "mean_decision_ms": {
            str(row["rate"]): statistics.mean(row["decision"]) if row["decision"] else None
            for row in results.get("steady", [])
        },
    }
    (args.out / "pipeline.json").write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
