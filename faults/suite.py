"""The fault suite: the whole bot as `make run` starts it, fed news while it is being broken.

1. Starts `manage.py runbot` (supervisord, embedded PostgreSQL and Redis, simulated broker, market
   replay) in a fresh data folder on its own ports.
2. Feeds ``articles`` generated articles naming the traded tickers through a news source that the
   news worker polls (``news.poll_source``), plus a few undecodable messages meant to fail.
3. Meanwhile: SIGKILLs a random worker (every stage's, beat and the replay included) at random
   moments, restarts Redis once and PostgreSQL once, and opens broker fault windows (429, 5xx,
   time-outs after the order was placed, partial fills).
4. Waits until the pipeline has settled, then checks what must hold, through the database, Redis
   and the broker's own state, and returns a report (``python -m faults`` prints it as a table).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TICKERS = ("AAPL", "MSFT", "AMZN", "GOOG", "FB")
VICTIMS = (
    "worker_news",
    "worker_sentiment",
    "worker_signals",
    "worker_execution",
    "worker_learning",
    "worker_default",
    "beat",
    "replay",
)
POISON = 3  # undecodable messages on news:raw: the only dead letters expected
WORDS_UP = (
    "beats estimates",
    "raises guidance",
    "record profit",
    "upgrade to buy",
    "strong demand",
)
WORDS_DOWN = ("misses estimates", "cuts guidance", "recall", "downgrade to sell", "weak demand")


@dataclass
class Config:
    articles: int = 1000
    kills: int = 30
    data_dir: Path = Path("/tmp/tradebot-faults")
    port_base: int = 8330  # web, flower, redis, metrics base (+1..+7)
    seed: int = 12
    settle_timeout_s: float = 600.0
    batch: int = 50


@dataclass
class Report:
    articles_fed: int = 0
    poison_fed: int = 0
    kills: int = 0
    kills_by_process: dict[str, int] = field(default_factory=dict)
    redis_restarts: int = 0
    postgres_restarts: int = 0
    broker_fault_windows: list[str] = field(default_factory=list)
    restarts_seen: int = 0
    articles_stored: int = 0
    articles_total: int = 0
    articles_unscored: int = 0
    ticker_scores_missing: int = 0
    ticker_scores_duplicated: int = 0
    signals: int = 0
    signals_acted_twice: int = 0
    orders: int = 0
    broker_orders: int = 0
    duplicate_client_ids: int = 0
    orders_unknown_to_broker: int = 0
    position_mismatches: list[str] = field(default_factory=list)
    positions_compared: int = 0
    outbox_left: int = 0
    pending_left: int = 0
    lag_left: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    max_requests_per_minute: int = 0
    rate_limit_per_minute: int = 200
    trades_filled: int = 0
    outcomes: int = 0
    seconds: float = 0.0
    settled: bool = False

    @property
    def lost(self) -> int:
        return (
            self.articles_unscored
            + self.ticker_scores_missing
            + (self.articles_fed - self.articles_stored)
            + self.orders_unknown_to_broker
        )

    @property
    def duplicated(self) -> int:
        return self.ticker_scores_duplicated + self.signals_acted_twice + self.duplicate_client_ids

    @property
    def unexpected_dead_letters(self) -> int:
        return sum(self.dead_letters.values()) - self.poison_fed

    def problems(self) -> list[str]:
        out = []
        if not self.settled:
            out.append("the pipeline did not settle in time")
        if self.lost:
            out.append(f"{self.lost} lost")
        if self.duplicated:
            out.append(f"{self.duplicated} duplicated")
        if self.position_mismatches:
            out.append(f"positions differ: {', '.join(self.position_mismatches)}")
        if self.outbox_left or self.pending_left or self.lag_left:
            out.append(
                f"left over: outbox {self.outbox_left}, pending {self.pending_left}, "
                f"lag {self.lag_left}"
            )
        if self.dead_letters.get("news:raw:dead", 0) != self.poison_fed or (
            self.unexpected_dead_letters
        ):
            out.append(f"dead letters {self.dead_letters} (expected {self.poison_fed} poison)")
        if self.max_requests_per_minute > self.rate_limit_per_minute:
            out.append(f"rate budget exceeded: {self.max_requests_per_minute} requests in a minute")
        return out

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(
            lost=self.lost,
            duplicated=self.duplicated,
            problems=self.problems(),
            ok=not self.problems(),
        )
        return data


# --- the bot --------------------------------------------------------------------------------------


class Bot:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        b = cfg.port_base
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="tradebot.settings.base",
            TRADEBOT_DATA_DIR=str(cfg.data_dir),
            WEB_PORT=str(b),
            FLOWER_PORT=str(b + 1),
            EMBEDDED_REDIS_PORT=str(b + 2),
            METRICS_PORT_BASE=str(b + 2),  # workers on b+3 .. b+9
            SENTIMENT_AUTO_TRAIN="false",
            DEMO_NEWS="false",  # the suite's own articles, through the news worker
            REPLAY_SPEED="43200",  # half a trading day per second
            BROKER_FAULT_INJECTION="true",
            BUS_CLAIM_IDLE_MS="3000",  # killed consumers' messages are taken over quickly
            BUS_OUTBOX_STALE_S="2",
            BUS_MAX_DELIVERIES="5",
            NEWS_ALLOWED_NETWORKS="",
            PYTHONUNBUFFERED="1",
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.conf = cfg.data_dir / "supervisor" / "supervisord.conf"
        self.ctl = str(Path(sys.executable).parent / "supervisorctl")

    def start(self) -> None:
        self.cfg.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.cfg.data_dir / "run.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runbot"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def status(self) -> dict[str, tuple[str, int]]:
        out = subprocess.run(
            [self.ctl, "-c", str(self.conf), "status"], capture_output=True, text=True, check=False
        ).stdout
        result = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[2] == "pid":
                result[parts[0]] = (parts[1], int(parts[3].rstrip(",")))
        return result

    def wait_running(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"runbot exited: see {self.cfg.data_dir / 'run.log'}")
            states = self.status()
            if states and all(s == "RUNNING" for s, _ in states.values()) and len(states) >= 11:
                return
            time.sleep(1)
        raise RuntimeError(f"the bot did not come up; see {self.cfg.data_dir / 'run.log'}")

    def kill(self, name: str) -> bool:
        state, pid = self.status().get(name, ("", 0))
        if state != "RUNNING" or not pid:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def stop_process(self, name: str) -> None:
        subprocess.run(
            [self.ctl, "-c", str(self.conf), "stop", name], capture_output=True, check=False
        )

    def stop(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "runbot", "--stop"],
            cwd=ROOT,
            env={**self.env, "TRADEBOT_NO_EMBEDDED_START": "1"},
            capture_output=True,
            check=False,
        )
        if self.proc:
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


# --- the suite ------------------------------------------------------------------------------------


def write_articles(path: Path, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    start = datetime(2015, 9, 1, 13, 0, tzinfo=UTC)
    with path.open("w") as fh:
        for i in range(n):
            ticker = TICKERS[i % len(TICKERS)]
            other = TICKERS[(i * 7 + 3) % len(TICKERS)]
            words = rnd.choice(WORDS_UP if rnd.random() < 0.55 else WORDS_DOWN)
            text = f"${ticker} {words} (report {i}); peers ${other} watched"
            when = start + timedelta(hours=6 * i)
            row = {
                "id": f"9{seed:03d}{i:08d}",
                "ticker": ticker,
                "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "text": text,
            }
            fh.write(json.dumps(row) + "\n")


def _django(env: dict[str, str]) -> None:
    os.environ.update(
        {
            k: v
            for k, v in env.items()
            if k.startswith(("TRADEBOT_", "DJANGO_", "EMBEDDED_", "BUS_", "BROKER_"))
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["TRADEBOT_NO_EMBEDDED_START"] = "1"  # the bot's servers, never started from here
    import django

    django.setup()


def _retry(fn: Callable[[], Any], *, attempts: int = 60) -> Any:
    """Call ``fn`` through a Redis or PostgreSQL restart (the suite's own reads)."""
    from django.db import close_old_connections

    for n in range(attempts):
        try:
            return fn()
        except Exception:  # noqa: BLE001 - a server is restarting
            if n == attempts - 1:
                raise
            close_old_connections()
            time.sleep(1)
    return None


def run(cfg: Config, say: Callable[[str], None] = print) -> Report:
    rnd = random.Random(cfg.seed)
    report = Report()
    started = time.monotonic()
    if cfg.data_dir.exists():
        import shutil

        Bot(cfg).stop()
        shutil.rmtree(cfg.data_dir)
    bot = Bot(cfg)
    say(f"faults: starting the bot in {cfg.data_dir} (ports {cfg.port_base}..{cfg.port_base + 9})")
    bot.start()
    try:
        bot.wait_running(600)
        _django(bot.env)
        return _exercise(cfg, bot=bot, rnd=rnd, report=report, started=started, say=say)
    finally:
        say("faults: stopping the bot")
        bot.stop()


def _exercise(
    cfg: Config,
    *,
    bot: Bot,
    rnd: random.Random,
    report: Report,
    started: float,
    say: Callable[[str], None],
) -> Report:
    from django.conf import settings

    from apps.core.redis_client import redis_client
    from apps.execution.brokers import chaos
    from apps.news.models import NewsSource
    from tradebot import embedded
    from tradebot.celery import app

    report.rate_limit_per_minute = settings.ALPACA_RATE_LIMIT_PER_MIN
    feed = cfg.data_dir / "faults_articles.jsonl"
    write_articles(feed, cfg.articles, cfg.seed)
    NewsSource.objects.update(enabled=False)  # only the suite's articles come in
    source = NewsSource.objects.create(
        name="faults",
        kind="replay",
        url="",
        poll_interval_s=86400,
        enabled=True,
        options={"dataset": "stocknet", "path": str(feed), "batch": cfg.batch},
    )
    say(f"faults: feeding {cfg.articles} articles through news source #{source.pk}")
    r = redis_client()
    for i in range(POISON):
        r.xadd("news:raw", {"body": f"not a contract {i}".encode()})
    report.poison_fed = POISON
    chaos.fault_clear(r)

    stop = threading.Event()
    errors: list[str] = []

    def chaos_loop() -> None:
        order = list(VICTIMS)
        rnd.shuffle(order)
        n = 0
        while not stop.is_set() and report.kills < cfg.kills:
            if stop.wait(rnd.uniform(1.0, 3.0)):
                return
            victim = order[n % len(order)] if n < len(order) else rnd.choice(VICTIMS)
            n += 1
            try:
                if bot.kill(victim):
                    report.kills += 1
                    report.kills_by_process[victim] = report.kills_by_process.get(victim, 0) + 1
            except Exception as exc:  # noqa: BLE001
                errors.append(f"kill {victim}: {exc}")

    killer = threading.Thread(target=chaos_loop, daemon=True)
    killer.start()

    def fed() -> int:
        source.refresh_from_db()
        return int(source.cursor or 0)

    schedule = [
        (0.15, "broker", "429"),
        (0.30, "redis", ""),
        (0.40, "broker", "5xx"),
        (0.55, "postgres", ""),
        (0.65, "broker", "timeout"),
        (0.80, "broker", "partial"),
    ]

    def inject(what: str, mode: str) -> None:
        if what == "broker":
            _retry(functools.partial(_broker_fault, mode))
            report.broker_fault_windows.append(mode)
            say(f"faults: broker answers {mode} for 10 s")
        elif what == "redis":
            _restart_redis(cfg, r, embedded)
            report.redis_restarts += 1
            say("faults: Redis restarted")
        else:
            _restart_postgres(cfg)
            report.postgres_restarts += 1
            say("faults: PostgreSQL restarted")

    last_send = 0.0
    last_cursor = -1
    while True:
        cursor = _retry(fed)
        if cursor >= cfg.articles:
            break
        while schedule and cursor / cfg.articles >= schedule[0][0]:
            inject(*schedule.pop(0)[1:])
        now = time.monotonic()
        if cursor != last_cursor or now - last_send > 5:
            last_cursor = cursor
            last_send = now
            _retry(
                lambda: app.send_task(
                    "news.poll_source", args=(source.pk,), kwargs={"force": True}, queue="news"
                )
            )
        time.sleep(0.5)
    report.articles_fed = cfg.articles
    for _, what, mode in schedule:  # whatever the feed outran happens now, while kills go on
        inject(what, mode)
    while report.kills < cfg.kills and killer.is_alive():
        time.sleep(1)
    stop.set()
    killer.join()
    # The replay keeps the market moving (new bars, signals, fills): stop it so that the pipeline
    # can come to rest and be checked at a quiet moment.
    bot.stop_process("replay")
    say(f"faults: {report.kills} kills done; replay stopped; waiting for the pipeline to settle")
    time.sleep(10)  # the last fault window closes by itself
    _retry(lambda: chaos.fault_clear(redis_client()))
    report.settled = _settle(cfg, report)
    _check(report)
    report.restarts_seen = sum(_restarts(cfg).values())
    report.seconds = time.monotonic() - started
    if errors:
        say("faults: " + "; ".join(errors))
    return report


def _broker_fault(mode: str) -> None:
    from apps.core.redis_client import redis_client
    from apps.execution.brokers import chaos

    chaos.fault_set(redis_client(), mode, 10.0)


def _restart_redis(cfg: Config, client: Any, embedded: Any) -> None:
    """SHUTDOWN (Redis writes its append-only file) and start the same server again."""
    # The connection drops as the server exits: the error is the expected answer.
    with contextlib.suppress(Exception):
        client.shutdown(save=True)
    port = cfg.port_base + 2
    deadline = time.monotonic() + 30
    while embedded._redis_ping("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # the bot runs without Redis for a moment
    embedded.ensure_redis(cfg.data_dir, port)


def _restart_postgres(cfg: Config) -> None:
    """Fast shutdown (SIGINT to the postmaster), a moment down, then start it again as before."""
    from tradebot import embedded

    pidfile = cfg.data_dir / "postgres" / "postmaster.pid"
    pid = int(pidfile.read_text().splitlines()[0])
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    time.sleep(2)  # the bot runs without its database for a moment
    embedded.ensure_postgres(cfg.data_dir)


def _restarts(cfg: Config) -> dict[str, int]:
    from tradebot.supervision import read_restarts

    return read_restarts(cfg.data_dir)


def _settled_state() -> tuple[int, int, int, int]:
    from django.db import connection

    from apps.bus.topology import routes
    from apps.core.models import OutboxMessage
    from apps.core.redis_client import redis_client

    r = redis_client()
    pending = lag = 0
    for route in routes():
        if not r.exists(route.stream):
            continue
        for info in r.xinfo_groups(route.stream):
            name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
            if name == route.group:
                pending += int(info.get("pending") or 0)
                # Entries not yet delivered (Redis 6.2 has no "lag" field: count them).
                last = info["last-delivered-id"]
                after = b"(" + last if last not in (b"0-0", "0-0") else "-"
                lag += len(r.xrange(route.stream, after, "+") or [])
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM article_sentiments s WHERE s.article_id = a.id)"
        )
        unscored = int(cur.fetchone()[0])
    return OutboxMessage.objects.count(), pending, lag, unscored


def _settle(cfg: Config, report: Report) -> bool:
    deadline = time.monotonic() + cfg.settle_timeout_s
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        state = _retry(_settled_state)
        if state == (0, 0, 0, 0):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 10:
                return True
        else:
            quiet_since = None
        time.sleep(2)
    return False


def _check(report: Report) -> None:
    from django.db import connection
    from django.db.models import Count

    from apps.bus.names import Stream, dead_letter
    from apps.core.redis_client import redis_client
    from apps.execution.brokers import chaos
    from apps.execution.brokers.simulated import SimState
    from apps.execution.models import Position, Trade
    from apps.learning.models import TradeOutcome
    from apps.news.models import Article
    from apps.strategies.models import Signal

    r = redis_client()
    report.articles_total = Article.objects.count()
    report.articles_stored = Article.objects.filter(source__name="faults").count()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM article_sentiments s WHERE s.article_id = a.id)"
        )
        report.articles_unscored = int(cur.fetchone()[0])
        cur.execute(
            "SELECT count(*) FROM articles a, jsonb_array_elements_text(a.tickers) t(ticker) "
            "WHERE NOT EXISTS (SELECT 1 FROM article_sentiments s "
            "WHERE s.article_id = a.id AND s.ticker = t.ticker)"
        )
        report.ticker_scores_missing = int(cur.fetchone()[0])
        cur.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM article_sentiments "
            "GROUP BY article_id, ticker HAVING count(*) > 1) d"
        )
        report.ticker_scores_duplicated = int(cur.fetchone()[0])
    report.signals = Signal.objects.count()
    report.signals_acted_twice = (
        Trade.objects.filter(purpose=Trade.Purpose.ENTRY, signal__isnull=False)
        .values("signal_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    report.orders = Trade.objects.count()
    report.trades_filled = Trade.objects.filter(status=Trade.Status.FILLED).count()
    report.outcomes = TradeOutcome.objects.count()
    raw = r.get("simbroker:default")
    state = SimState.loads(raw) if raw else None
    broker_clients = [o.client_order_id for o in state.orders.values()] if state else []
    report.broker_orders = len(broker_clients)
    report.duplicate_client_ids = len(broker_clients) - len(set(broker_clients))
    sent = Trade.objects.exclude(status__in=[Trade.Status.NEW]).exclude(broker_order_id="")
    known = set(broker_clients)
    report.orders_unknown_to_broker = sum(
        1 for c in sent.values_list("client_order_id", flat=True) if c not in known
    )
    broker_pos = {t: p.qty for t, p in (state.positions.items() if state else []) if p.qty}
    db_pos = {p.ticker: p.qty for p in Position.objects.filter(broker="simulated") if p.qty}
    report.positions_compared = len(set(broker_pos) | set(db_pos))
    report.position_mismatches = [
        f"{t}: broker {broker_pos.get(t, 0)} vs db {db_pos.get(t, 0)}"
        for t in sorted(set(broker_pos) | set(db_pos))
        if broker_pos.get(t, 0) != db_pos.get(t, 0)
    ]
    report.outbox_left, report.pending_left, report.lag_left, _ = _settled_state()
    report.dead_letters = {
        dead_letter(s.value): int(r.xlen(dead_letter(s.value)))
        for s in Stream
        if r.xlen(dead_letter(s.value))
    }
    report.max_requests_per_minute = chaos.calls_per_window(r)


def table(report: Report) -> str:
    rows = [
        ("articles fed (news source)", report.articles_fed),
        ("articles in the database (all sources)", report.articles_total),
        ("poison messages (meant to fail)", report.poison_fed),
        ("workers SIGKILLed", f"{report.kills} {dict(sorted(report.kills_by_process.items()))}"),
        ("Redis restarts", report.redis_restarts),
        ("PostgreSQL restarts", report.postgres_restarts),
        ("broker fault windows", ", ".join(report.broker_fault_windows)),
        (
            "faults injected in all",
            report.kills
            + report.redis_restarts
            + report.postgres_restarts
            + len(report.broker_fault_windows),
        ),
        ("restarts by supervisord", report.restarts_seen),
        ("articles unscored", report.articles_unscored),
        ("(article, ticker) scores missing", report.ticker_scores_missing),
        ("(article, ticker) scores duplicated", report.ticker_scores_duplicated),
        ("signals / acted on twice", f"{report.signals} / {report.signals_acted_twice}"),
        ("orders (db) / at the broker", f"{report.orders} / {report.broker_orders}"),
        ("duplicate client order ids at the broker", report.duplicate_client_ids),
        ("orders sent but unknown to the broker", report.orders_unknown_to_broker),
        ("filled trades / learning outcomes", f"{report.trades_filled} / {report.outcomes}"),
        (
            "positions compared / mismatched",
            f"{report.positions_compared} / {len(report.position_mismatches)}",
        ),
        (
            "outbox / pending / lag left",
            f"{report.outbox_left} / {report.pending_left} / {report.lag_left}",
        ),
        ("dead letters", json.dumps(report.dead_letters)),
        (
            "max broker requests in any minute (budget)",
            f"{report.max_requests_per_minute} ({report.rate_limit_per_minute})",
        ),
        ("LOST", report.lost),
        ("DUPLICATED", report.duplicated),
        ("settled", report.settled),
        ("seconds", f"{report.seconds:.0f}"),
        ("result", "OK" if not report.problems() else "FAILED: " + "; ".join(report.problems())),
    ]
    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 40)
    return "\n".join([line, *(f"{k:<{width}}  {v}" for k, v in rows), line])


def free_port_base(preferred: int) -> int:
    """``preferred`` if its ten ports are free, else the next free block of ten."""
    base = preferred
    while base < preferred + 60:
        if all(_free(base + i) for i in range(10)):
            return base
        base += 10
    return preferred


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
