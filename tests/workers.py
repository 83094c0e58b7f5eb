"""The command line of a real Celery worker, as tests and benchmarks start them (no gossip, mingle
or heartbeat: each starts alone, fast)."""

from __future__ import annotations

import sys


def celery_worker_argv(
    queues: list[str], name: str, *, pool: str = "solo", concurrency: int | None = None,
    loglevel: str = "INFO",
) -> list[str]:  # fmt: skip
    """``python -m celery -A tradebot worker`` on ``queues`` as ``name@<host>``."""
    argv = [sys.executable, "-m", "celery", "-A", "tradebot", "worker", "-P", pool]
    if concurrency is not None:
        argv += ["-c", str(concurrency)]
    return [
        *argv,
        "-Q",
        ",".join(queues),
        "-n",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        f"--loglevel={loglevel}",
    ]
