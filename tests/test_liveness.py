"""Worker liveness: the health check tells dead, stuck and busy-but-fine workers apart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import WorkerProcess, wait_for
from tradebot import liveness

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, *, age: float = 0.0, tasks: list[dict[str, object]] | None = None) -> None:
    path.write_text(json.dumps({"pid": 1, "ts": time.time() - age, "tasks": tasks or []}))


def test_fresh_file_with_tasks_within_their_limits_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "news.json"
    _write(
        path,
        tasks=[{"id": "a", "name": "news.poll_source", "started": time.time() - 5, "limit_s": 130}],
    )
    assert liveness.check(path) == (True, "ok: pid 1, 1 task(s) running")


def test_stale_file_means_dead_or_frozen(tmp_path: Path) -> None:
    path = tmp_path / "news.json"
    _write(path, age=liveness.STALE_S + 30)
    healthy, reason = liveness.check(path)
    assert not healthy and reason.startswith("dead or frozen")
    healthy, reason = liveness.check(tmp_path / "missing.json")
    assert not healthy and reason.startswith("no liveness file")


def test_a_task_past_its_limit_means_stuck(tmp_path: Path) -> None:
    path = tmp_path / "signals.json"
    started = time.time() - 1000
    _write(path, tasks=[{"id": "t1", "name": "bus.drain", "started": started, "limit_s": 900}])
    healthy, reason = liveness.check(path)
    assert not healthy
    assert reason.startswith("stuck: bus.drain[t1] running for 1000s (limit 900s)")


def test_worker_side_tracks_tasks_and_exits_when_stuck_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = liveness.Liveness("x", tmp_path / "x.json", stuck_after_s=60, exit_after_s=30)
    live.task_started("t1", "news.poll_source", 130)
    live.task_started("t2", "bus.drain", None)  # no limit of its own: the worker default
    state = live.write()
    assert {t["limit_s"] for t in state["tasks"]} == {130.0, 60.0}
    live.task_finished("t1")
    assert [t["id"] for t in live.snapshot()["tasks"]] == ["t2"]
    exits: list[int] = []
    monkeypatch.setattr(liveness.os, "_exit", exits.append)
    live.beat_once()
    assert exits == []  # t2 just started
    live._tasks["t2"]["started"] = time.time() - 60 - 31
    live.beat_once()
    assert exits == [70]


def test_health_check_command_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "liveness").mkdir()
    _write(tmp_path / "liveness" / "default.json")
    env = {"TRADEBOT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-m", "tradebot.liveness", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("default: ok")
    bad = subprocess.run(
        [sys.executable, "-m", "tradebot.liveness", "news"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "no liveness file" in bad.stdout


@pytest.mark.workers
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_its_liveness_file(
    tmp_path: Path, celery_workers: Callable[..., WorkerProcess]
) -> None:
    celery_workers(["default"], {"TRADEBOT_DATA_DIR": str(tmp_path)})
    path = tmp_path / "liveness" / "w0.json"
    wait_for(path.exists, timeout=60)
    healthy, reason = liveness.check(path)
    assert healthy, reason
