"""A smaller run of the fault suite (`make faults` runs the full one).

The whole bot as `make run` starts it (supervisord, embedded PostgreSQL and Redis, simulated broker,
market replay), fed 100 articles through the news worker while workers of every stage are
SIGKILLed, Redis and PostgreSQL are restarted and the broker answers 429, 5xx, time-outs and
partial fills. Then nothing may be lost or duplicated, positions must be reconciled, nothing left
pending, dead letters only for the poison messages, the request budget held.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.workers
@pytest.mark.timeout(1500)
def test_small_fault_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faults",
            "--articles",
            "100",
            "--kills",
            "8",
            "--data-dir",
            str(tmp_path / "data"),
            "--port-base",
            str(random.randrange(20000, 40000, 10)),
            "--settle-timeout",
            "600",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1400,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["problems"] == [], proc.stdout[-3000:]
    assert proc.returncode == 0
    assert report["kills"] == 8 and report["restarts_seen"] >= 8
    assert (report["redis_restarts"], report["postgres_restarts"]) == (1, 1)
    assert sorted(report["broker_fault_windows"]) == ["429", "5xx", "partial", "timeout"]
    assert report["articles_fed"] == report["articles_stored"] == 100
    assert (report["lost"], report["duplicated"]) == (0, 0)
    assert report["dead_letters"] == {"news:raw:dead": 3}
    assert report["max_requests_per_minute"] <= report["rate_limit_per_minute"]
