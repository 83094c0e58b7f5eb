"""Shared fixtures. Tests run against real PostgreSQL and Redis (see Makefile / README)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from tests.workers import celery_worker_argv

ROOT = Path(__file__).resolve().parent

# The Alpaca stand-in server (tests/standins/alpaca) as a fixture for every app: `alpaca_standin`.
pytest_plugins = ["tests.standins.alpaca.fixtures"]


@pytest.fixture
def redis_conn(settings: object) -> Iterator[redis_lib.Redis]:
    """The bus's Redis, emptied before the test (tests use their own Redis DB number)."""
    from apps.core.redis_client import redis_client

    client = redis_client()
    client.flushdb()
    yield client


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a subprocess that must see the *test* database and the same Redis."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    host = db.get("HOST") or ""
    if host.startswith("/"):
        from urllib.parse import quote

        url = f"postgres://{db['USER']}@{quote(host, safe='')}/{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "tradebot.settings.test",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


class WorkerProcess:
    """A real Celery worker (solo pool) in a subprocess, killable like a crashed machine."""

    def __init__(self, queues: list[str], env: dict[str, str], name: str, log: Path) -> None:
        self.queues, self.env, self.name, self.log_path = queues, env, name, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            celery_worker_argv(self.queues, self.name),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack -- as if the machine died."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_exit(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def celery_workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: ``celery_workers(["default"], extra_env)`` starts a real worker; all stopped after."""
    started: list[WorkerProcess] = []

    def start(queues: list[str], extra_env: dict[str, str] | None = None) -> WorkerProcess:
        n = len(started)
        w = WorkerProcess(queues, worker_env(extra_env), f"w{n}", tmp_path / f"worker{n}.log")
        started.append(w.start())
        return w

    yield start
    for w in started:
        w.stop()


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, every: float = 0.05) -> object:
    """Poll until ``predicate()`` is truthy; fail with a clear message (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(every)
