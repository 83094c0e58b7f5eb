"""`make run` from nothing: no DATABASE_URL, no REDIS_URL, a fresh data folder.

Starts `manage.py runbot` (what `make run` calls) exactly as a new user would, then checks that the
embedded PostgreSQL and Redis came up and that /admin/, /metrics, /healthz, Flower and a worker's
/metrics answer. Stops everything, including the embedded servers, afterwards.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, http.client.HTTPException):
        # Not up yet. A port in the ephemeral range with nothing listening can even connect to
        # itself (TCP self-connect) and read back its own request as a "bad status line".
        return 0, ""


def wait_ok(url: str, timeout: float) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    status, body = 0, ""
    while time.monotonic() < deadline:
        status, body = get(url)
        if status == 200:
            return status, body
        time.sleep(0.5)
    return status, body


def test_make_run_comes_up_on_embedded_servers(tmp_path: Path) -> None:
    web, flower, redis_port = free_port(), free_port(), free_port()
    metrics_base = free_port()  # workers use base+1..base+7; a random base avoids clashes
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        TRADEBOT_DATA_DIR=str(tmp_path / "data"),
        WEB_PORT=str(web),
        FLOWER_PORT=str(flower),
        EMBEDDED_REDIS_PORT=str(redis_port),
        METRICS_PORT_BASE=str(min(metrics_base, 60000)),
        DJANGO_SETTINGS_MODULE="tradebot.settings.base",
        SENTIMENT_AUTO_TRAIN="false",  # training is tested in apps/sentiment; too slow here
        REPLAY_SPEED="86400",  # one simulated day per second
    )
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runbot"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status, _ = wait_ok(f"http://127.0.0.1:{web}/admin/login/", timeout=180)
        output = (tmp_path / "run.log").read_text(errors="replace")
        assert status == 200, output[-4000:]
        assert "tradebot is starting" in output
        assert "VADER lexicon fallback" in output  # no model yet: says which fallback it uses
        status, health = wait_ok(f"http://127.0.0.1:{web}/healthz", timeout=30)
        assert status == 200 and '"postgres": "ok"' in health and '"redis": "ok"' in health
        status, metrics = get(f"http://127.0.0.1:{web}/metrics")
        assert status == 200 and "tradebot_queue_depth" in metrics
        status, _ = wait_ok(f"http://127.0.0.1:{flower}/healthcheck", timeout=60)
        assert status == 200
        port = min(metrics_base, 60000) + 1  # worker_default
        status, worker_metrics = wait_ok(f"http://127.0.0.1:{port}/metrics", timeout=180)
        assert status == 200 and "tradebot_stream_length" in worker_metrics
        # The embedded servers really are under the data folder.
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").is_file()
        assert (tmp_path / "data" / "redis").is_dir()
        # The bundled real data was loaded and flows through the pipeline: bars and news are
        # stored, and the sentiment worker scores the news (fallback scorer: no model yet).
        import psycopg

        dsn = f"host={tmp_path / 'data' / 'postgres'} dbname=tradebot user=postgres"

        def count(sql: str) -> int:
            with psycopg.connect(dsn) as conn:
                row = conn.execute(sql).fetchone()
                return int(row[0]) if row else 0

        assert count("SELECT count(*) FROM market_data") >= 5 * 505
        assert count("SELECT count(*) FROM articles") > 1000
        deadline = time.monotonic() + 120
        while count("SELECT count(*) FROM article_sentiments") == 0:
            assert time.monotonic() < deadline, "no article was scored"
            time.sleep(1)
        # The replay drives the market clock: signals are made and the simulated broker fills.
        deadline = time.monotonic() + 180
        while count("SELECT count(*) FROM trades WHERE status = 'filled'") == 0:
            assert time.monotonic() < deadline, "no order was filled"
            time.sleep(2)
        assert count("SELECT count(*) FROM signals") > 0
        # Every signal is decided on the replay's clock (issue 9: the news-triggered ones were
        # decided at the wall clock, years after the market): none later than the replay's "now",
        # none before it started, news-triggered ones included.
        from datetime import datetime

        import redis as redis_lib

        with psycopg.connect(dsn) as conn:  # first the newest decision, then the clock: the
            row = conn.execute("SELECT max(decided_at), min(decided_at) FROM signals").fetchone()
        raw = redis_lib.Redis(port=redis_port).get("market:replay:now")  # clock only moves on
        assert row is not None and raw, "no signal, or the replay published no market time"
        replay_now = datetime.fromisoformat(raw.decode())
        newest, oldest = row
        assert newest <= replay_now, (
            f"a signal decided at {newest}, after the replay's {replay_now}"
        )
        assert oldest.year >= 2015, oldest
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(
            [sys.executable, "manage.py", "embedded", "stop"],
            cwd=ROOT,
            env={**env, "TRADEBOT_NO_EMBEDDED_START": "1"},
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
