"""Bus benchmark: one hop and a 4-stage chain through the real dispatch, on real Redis + PostgreSQL.

A hop = publish (outbox row + commit + XADD + wake) -> Celery drain task on the stage's queue ->
XREADGROUP -> the stage's transaction commits (effect row + receipt) -> XACK. Latency is measured
from just before the publishing transaction to just after the acknowledgement, by the probe stage
itself (``apps.bus.probe.LATENCY_KEY``). Also measures a raw Streams consumer-group round trip
as a floor. Run: ``python -m bench.bus_bench`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.workers import celery_worker_argv

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def start_workers(queues: list[str]) -> list[subprocess.Popen[bytes]]:
    """One solo worker per queue, as in production (one worker process per stage queue)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = []
    for i, queue in enumerate(queues):
        procs.append(
            subprocess.Popen(
                celery_worker_argv([queue], f"bench{i}", loglevel="WARNING"),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def latencies(r: Any, expect: int, timeout: float = 120) -> tuple[list[float], list[float]]:
    """(from the producer's transaction, from the last hop's XADD) to ack, in ms."""
    from apps.bus.probe import HOP_LATENCY_KEY, LATENCY_KEY

    deadline = time.monotonic() + timeout
    while r.llen(LATENCY_KEY) < expect and time.monotonic() < deadline:
        time.sleep(0.05)
    total = [float(x) * 1000 for x in r.lrange(LATENCY_KEY, 0, -1)]
    hop = [float(x) * 1000 for x in r.lrange(HOP_LATENCY_KEY, 0, -1)]
    r.delete(LATENCY_KEY, HOP_LATENCY_KEY)
    return total, hop


def steady(rate: float, seconds: float, hops: int) -> int:
    from django.db import transaction

    from apps.bus import outbox
    from apps.bus.names import Stream
    from apps.bus.probe import Ping

    n = int(rate * seconds)
    interval = 1.0 / rate
    t0 = time.perf_counter()
    for i in range(n):
        target = t0 + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            outbox.publish(Stream.PING_1, Ping(sent_at=time.time(), hops=hops, note="bench"))
    return n


def saturate(n: int, batch: int) -> float:
    from django.db import transaction

    from apps.bus import outbox
    from apps.bus.names import Stream
    from apps.bus.probe import LATENCY_KEY, Ping
    from apps.core.redis_client import redis_client

    r = redis_client()
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        with transaction.atomic():
            outbox.publish_many(
                [
                    (Stream.PING_1, Ping(sent_at=time.time(), hops=1, note="sat"), None)
                    for _ in range(min(batch, n - start))
                ]
            )
    while r.llen(LATENCY_KEY) < n:
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    r.delete(LATENCY_KEY, "bus:probe:hop_latency")
    return n / elapsed


def raw_streams_round_trip(n: int = 3000) -> list[float]:
    """Floor: XADD -> XREADGROUP -> XACK on one connection, no database, no Celery."""
    from apps.core.redis_client import redis_client

    r = redis_client()
    r.delete("bench:raw")
    r.xgroup_create("bench:raw", "g", id="0", mkstream=True)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r.xadd("bench:raw", {"b": "x"})
        mid = r.xreadgroup("g", "c", {"bench:raw": ">"}, count=1)[0][1][0][0]
        r.xack("bench:raw", "g", mid)
        out.append((time.perf_counter() - t) * 1000)
    r.delete("bench:raw")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--queues",
        default="news,sentiment,signals,execution",
        help="queues of the 4 probe stages; one worker is started per distinct queue",
    )
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--chain-rate", type=float, default=100)
    ap.add_argument("--saturate", type=int, default=10_000)
    args = ap.parse_args()

    os.environ["BUS_PROBE_QUEUES"] = args.queues
    queues = list(dict.fromkeys(q for q in args.queues.split(",") if q))
    from bench._db import setup_django

    setup_django()
    from apps.core.models import BusPing, ProcessedMessage
    from apps.core.redis_client import redis_client

    r = redis_client()
    r.flushdb()
    BusPing.objects.all().delete()
    ProcessedMessage.objects.all().delete()
    procs = start_workers(queues)
    try:
        time.sleep(4)  # workers booting
        steady(50, 2, hops=4)  # warm-up: connections, groups, code paths
        latencies(r, 100)

        raw = raw_streams_round_trip()
        n = steady(args.rate, args.seconds, hops=1)
        hop_total, hop = latencies(r, n)
        n4 = steady(args.chain_rate, args.seconds, hops=4)
        chain, _ = latencies(r, n4)
        n4_slow = steady(args.chain_rate / 4, args.seconds, hops=4)
        chain_slow, _ = latencies(r, n4_slow)
        sat = saturate(args.saturate, batch=500)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(20)

    print(
        f"\nbus benchmark ({len(queues)} solo workers on {','.join(queues)}, Redis "
        f"{r.info()['redis_version']}, PostgreSQL, {os.cpu_count()} cores, "
        f"drain linger {os.environ.get('BUS_DRAIN_LINGER_MS', '200')} ms)"
    )
    print(f"{'measurement':58} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'msg/s':>8}")
    rows = [
        ("raw Streams round trip (XADD/XREADGROUP/XACK, floor)", raw, None),
        (f"one hop XADD->commit->ack, steady {args.rate:.0f} msg/s", hop, None),
        (f"  same, from the producer's outbox txn, {args.rate:.0f} msg/s", hop_total, None),
        (f"4-stage chain, steady {args.chain_rate:.0f} chains/s", chain, None),
        (f"4-stage chain, steady {args.chain_rate / 4:.0f} chains/s", chain_slow, None),
    ]
    for name, vals, _ in rows:
        print(
            f"{name:58} {len(vals):6d} {statistics.median(vals):8.2f} {pct(vals, 0.99):8.2f} "
            f"{'':>8}"
        )
    print(
        f"{'one hop with commit, saturation (publish batches of 500)':58} {args.saturate:6d} "
        f"{'':>8} {'':>8} {sat:8.0f}"
    )


if __name__ == "__main__":
    main()
