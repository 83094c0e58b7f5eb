"""Worker liveness: a health check that tells a *stuck* worker from a busy one, not only a dead one.

Each Celery worker keeps ``$TRADEBOT_DATA_DIR/liveness/<name>.json`` up to date from a small thread:
its pid, a timestamp (every ``INTERVAL_S``) and the tasks it is running with their start times. A
worker is

* **dead** when the file is older than ``STALE_S`` (the process is gone or frozen),
* **stuck** when a task has run past its limit: the task's own ``time_limit``, else
  ``WORKER_STUCK_AFTER_S``. Celery's time limits do nothing on the solo and threads pools, so the
  same thread also ends a worker that has been stuck for ``WORKER_STUCK_EXIT_AFTER_S`` more
  (``os._exit``): supervisord (``make run``) or the compose restart policy starts it again, and
  the late-acknowledged task is delivered again.

``python -m tradebot.liveness NAME`` is the compose health check: exit 0 healthy, 1 otherwise, with
a one-line reason. It imports neither Django nor Celery, so it is cheap to run every few seconds.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun

log = logging.getLogger(__name__)

INTERVAL_S = 5.0
STALE_S = 60.0


def liveness_dir(data_dir: Path | None = None) -> Path:
    base = data_dir or Path(
        os.environ.get("TRADEBOT_DATA_DIR") or Path(__file__).parent.parent / ".data"
    )
    path = base / "liveness"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Liveness:
    """The worker side: tracks running tasks and writes the liveness file."""

    def __init__(
        self, name: str, path: Path, *, stuck_after_s: float, exit_after_s: float | None
    ) -> None:
        self.name, self.path = name, path
        self.stuck_after_s, self.exit_after_s = stuck_after_s, exit_after_s
        self._tasks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def task_started(self, task_id: str, task_name: str, limit_s: float | None) -> None:
        with self._lock:
            self._tasks[task_id] = {
                "id": task_id,
                "name": task_name,
                "started": time.time(),
                "limit_s": float(limit_s) if limit_s else self.stuck_after_s,
            }

    def task_finished(self, task_id: str) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            tasks = list(self._tasks.values())
        return {"name": self.name, "pid": os.getpid(), "ts": time.time(), "tasks": tasks}

    def write(self) -> dict[str, Any]:
        state = self.snapshot()
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.path)
        return state

    def beat_once(self) -> None:
        state = self.write()
        if self.exit_after_s is None:
            return
        now = state["ts"]
        for task in state["tasks"]:
            overdue = now - task["started"] - task["limit_s"]
            if overdue > self.exit_after_s:
                log.error(
                    "liveness: %s stuck in %s[%s] for %.0fs (limit %.0fs); exiting so that the "
                    "supervisor restarts this worker and the task is delivered again",
                    self.name,
                    task["name"],
                    task["id"],
                    now - task["started"],
                    task["limit_s"],
                )
                logging.shutdown()
                os._exit(70)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(INTERVAL_S):
                try:
                    self.beat_once()
                except OSError as exc:
                    log.warning("liveness: could not write %s: %s", self.path, exc)

        self.write()
        threading.Thread(target=run, name="liveness", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


def check(path: Path, *, now: float | None = None, stale_s: float = STALE_S) -> tuple[bool, str]:
    """``(healthy, reason)`` from a liveness file."""
    now = time.time() if now is None else now
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return False, f"no liveness file ({exc})"
    age = now - float(state.get("ts", 0))
    if age > stale_s:
        return False, f"dead or frozen: liveness not written for {age:.0f}s"
    for task in state.get("tasks", []):
        ran = now - float(task["started"])
        if ran > float(task["limit_s"]):
            return False, (
                f"stuck: {task['name']}[{task['id']}] running for {ran:.0f}s "
                f"(limit {float(task['limit_s']):.0f}s)"
            )
    return True, f"ok: pid {state.get('pid')}, {len(state.get('tasks', []))} task(s) running"


_current: Liveness | None = None


def install(name: str, *, stuck_after_s: float, exit_after_s: float | None) -> Liveness:
    """Start the liveness thread of this worker and hook it to Celery's task signals."""
    global _current

    live = Liveness(
        name,
        liveness_dir() / f"{name}.json",
        stuck_after_s=stuck_after_s,
        exit_after_s=exit_after_s,
    )

    def prerun(task_id: str = "", task: Any = None, **_: object) -> None:
        limit = getattr(task, "time_limit", None) if task is not None else None
        live.task_started(task_id, getattr(task, "name", "?"), limit)

    def postrun(task_id: str = "", **_: object) -> None:
        live.task_finished(task_id)

    task_prerun.connect(prerun, weak=False)
    task_postrun.connect(postrun, weak=False)
    live.start()
    _current = live
    return live


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tradebot.liveness WORKER_NAME", file=sys.stderr)
        return 2
    healthy, reason = check(liveness_dir() / f"{argv[0]}.json")
    print(f"{argv[0]}: {reason}")
    return 0 if healthy else 1


if __name__ == "__main__":  # pragma: no cover - the compose health check
    sys.exit(main(sys.argv[1:]))
