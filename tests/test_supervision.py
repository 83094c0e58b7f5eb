"""`make run` under supervisord: a process that dies comes back, the others keep running.

The fast tests check the generated configuration and the restart counter; the slow one starts the
whole bot from nothing on free ports (as `tests/test_make_run.py` does), `kill -9`s every process
of the Procfile one after another and checks that each is back while the others kept their pids,
then `manage.py runbot --stop` (what `make stop` runs) leaves nothing running.
"""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradebot import supervision

ROOT = Path(__file__).resolve().parent.parent


def test_config_has_every_procfile_process_with_restart_and_backoff(tmp_path: Path) -> None:
    conf = supervision.write_config(
        data_dir=tmp_path, procfile=ROOT / "Procfile", base_dir=ROOT, python="/venv/bin/python"
    )
    parser = configparser.RawConfigParser()
    parser.read(conf)
    names = [name for name, _ in supervision.procfile_entries(ROOT / "Procfile")]
    assert {"web", "worker_news", "beat", "flower", "replay"} <= set(names)
    for name in names:
        section = parser[f"program:{name}"]
        assert section["autorestart"] == "true"
        assert int(section["startretries"]) > 1  # supervisord's growing back-off
        assert section["stopasgroup"] == "true" and section["killasgroup"] == "true"
        assert section["command"].startswith("/bin/bash -c 'exec env ")
    # Celery's %h survives supervisord's own %-expansion.
    assert "-n news@%%h" in parser["program:worker_news"]["command"]
    assert "tradebot.supervision listen" in parser["eventlistener:tradebot_restarts"]["command"]
    assert parser["eventlistener:tradebot_restarts"]["events"] == (
        "PROCESS_STATE_EXITED,PROCESS_STATE_FATAL"
    )


def test_only_selects_processes_and_refuses_unknown_names(tmp_path: Path) -> None:
    conf = supervision.write_config(
        data_dir=tmp_path, procfile=ROOT / "Procfile", base_dir=ROOT, only=["web", "beat"]
    )
    parser = configparser.RawConfigParser()
    parser.read(conf)
    programs = sorted(s for s in parser.sections() if s.startswith("program:"))
    assert programs == ["program:beat", "program:web"]
    with pytest.raises(ValueError, match="not in Procfile: nope"):
        supervision.write_config(
            data_dir=tmp_path, procfile=ROOT / "Procfile", base_dir=ROOT, only=["nope"]
        )


def test_restart_counter_counts_per_process(tmp_path: Path) -> None:
    assert supervision.read_restarts(tmp_path) == {}
    assert supervision.count_restart(tmp_path, "worker_news") == 1
    assert supervision.count_restart(tmp_path, "worker_news") == 2
    assert supervision.count_restart(tmp_path, "web") == 1
    assert supervision.read_restarts(tmp_path) == {"web": 1, "worker_news": 2}


def test_listener_logs_and_counts_unexpected_exits_only(tmp_path: Path) -> None:
    """The event listener speaks supervisord's protocol: READY, then RESULT 2 OK per event."""

    def event(name: str, payload: str) -> bytes:
        body = payload.encode()
        head = "ver:3.0 server:supervisor serial:1 pool:tradebot_restarts poolserial:1 "
        head += f"eventname:{name} len:{len(body)}\n"
        return head.encode() + body

    events = (
        event(
            "PROCESS_STATE_EXITED",
            "processname:worker_news groupname:worker_news from_state:RUNNING expected:0 pid:42",
        )
        + event(
            "PROCESS_STATE_EXITED",
            "processname:web groupname:web from_state:STOPPING expected:1 pid:43",
        )
        + event("PROCESS_STATE_FATAL", "processname:beat groupname:beat from_state:BACKOFF")
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tradebot.supervision", "listen", str(tmp_path)],
        input=events,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.stdout.count(b"READY\n") == 4  # one per event, and one waiting for the next
    assert proc.stdout.count(b"RESULT 2\nOK") == 3
    err = proc.stderr.decode()
    assert "worker_news died unexpectedly (pid 42, was RUNNING)" in err
    assert "restart #1 of worker_news" in err
    assert "web died" not in err  # a stop that was asked for is not a restart
    assert "beat kept dying at start-up" in err
    assert supervision.read_restarts(tmp_path) == {"worker_news": 1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(env: dict[str, str]) -> dict[str, tuple[str, int]]:
    """``{process: (state, pid)}`` from supervisorctl (what `runbot --status` prints first)."""
    conf = Path(env["TRADEBOT_DATA_DIR"]) / "supervisor" / "supervisord.conf"
    out = subprocess.run(
        [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(conf), "status"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "pid":
            result[parts[0]] = (parts[1], int(parts[3].rstrip(",")))
    return result


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_9_of_any_process_under_make_run_is_restarted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        TRADEBOT_DATA_DIR=str(data),
        WEB_PORT=str(_free_port()),
        FLOWER_PORT=str(_free_port()),
        EMBEDDED_REDIS_PORT=str(_free_port()),
        METRICS_PORT_BASE=str(min(_free_port(), 60000)),
        DJANGO_SETTINGS_MODULE="tradebot.settings.base",
        SENTIMENT_AUTO_TRAIN="false",
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
    names = [name for name, _ in supervision.procfile_entries(ROOT / "Procfile")]
    try:
        _wait(
            lambda: (
                {n for n, (state, _) in _status(env).items() if state == "RUNNING"} >= set(names)
            ),
            240,
            "not every process came up: "
            + (tmp_path / "run.log").read_text(errors="replace")[-3000:],
        )
        time.sleep(supervision.STARTSECS + 1)  # each has counted as started (no back-off)
        for victim in names:
            before = _status(env)
            old_pid = before[victim][1]
            os.kill(old_pid, signal.SIGKILL)

            def back(name: str = victim, old: int = old_pid) -> bool:
                state, pid = _status(env).get(name, ("", old))
                return state == "RUNNING" and pid != old

            _wait(back, 60, f"{victim} was not restarted")
            after = _status(env)
            for other in names:
                if other != victim:  # nobody else was stopped or restarted
                    assert after[other] == before[other], (other, before[other], after[other])
            assert proc.poll() is None, "the bot stopped"
        assert supervision.read_restarts(data) == dict.fromkeys(names, 1)
        output = (tmp_path / "run.log").read_text(errors="replace")
        assert "tradebot supervisor: worker_news died unexpectedly" in output
    finally:
        stop = subprocess.run(
            [sys.executable, "manage.py", "runbot", "--stop"],
            cwd=ROOT,
            env={**env, "TRADEBOT_NO_EMBEDDED_START": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "bot stopped" in stop.stdout, stop.stdout + stop.stderr
    assert proc.returncode is not None
    # The embedded servers were stopped too.
    assert supervision.supervisord_pid(data) is None
    assert not (data / "postgres" / "postmaster.pid").exists()
    assert not (data / "redis" / "redis.pid").exists() or not _alive(data / "redis" / "redis.pid")


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True
