"""Backtest runs against the database: load once, replay, store; the command; the Celery task."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from apps.backtests.models import BacktestRun
from apps.backtests.services import backtest_enqueue, backtest_run_create, backtest_run_execute
from apps.market.models import MarketBar
from apps.news.models import Article, ArticleSentiment, NewsSource
from backtesting.config import BacktestConfig, SizingKind, StrategySpec
from backtesting.data import from_ns
from conftest import wait_for

from .conftest import T0, random_walk

SYMBOLS = ("AAA", "BBB")
N_BARS = 260


def seed_market():
    frames = {t: random_walk(t, N_BARS, seed) for seed, t in enumerate(SYMBOLS, start=11)}
    rows = []
    for t, f in frames.items():
        for i in range(len(f)):
            rows.append(
                MarketBar(
                    symbol=t,
                    timeframe="1Day",
                    time=from_ns(int(f.time[i])),
                    open=Decimal(f"{f.open[i]:.4f}"),
                    high=Decimal(f"{f.high[i]:.4f}"),
                    low=Decimal(f"{f.low[i]:.4f}"),
                    close=Decimal(f"{f.close[i]:.4f}"),
                    volume=Decimal(int(f.volume[i])),
                )
            )
    MarketBar.objects.bulk_create(rows)
    source = NewsSource.objects.create(name="test replay", kind=NewsSource.Kind.REPLAY)
    t0 = from_ns(int(frames["AAA"].time[0]))
    rng = np.random.default_rng(5)
    k = 0
    for day in range(10, N_BARS - 5, 6):
        for ticker in SYMBOLS:
            k += 1
            good = rng.random() < 0.5
            art = Article.objects.create(
                source=source,
                url=f"https://news.example/{k}",
                title=(
                    "Record profit, strong growth, upgrade"
                    if good
                    else "Fraud probe, loss, lawsuit"
                ),
                published_at=t0 + timedelta(days=day, hours=14),
                fetched_at=t0 + timedelta(days=day, hours=15),
                content_hash=f"h{k}",
                tickers=[ticker],
            )
            if k % 2:  # half are scored and stored; the rest the backtest scores itself
                ArticleSentiment.objects.create(
                    article=art,
                    ticker=ticker,
                    score=0.8 if good else -0.8,
                    confidence=0.9,
                    model_used="test@1",
                )
    Article.objects.create(  # an undated item: stamped with its fetch time, as live does
        source=source,
        url="https://news.example/undated",
        title="Great news",
        published_at=None,
        fetched_at=t0,
        content_hash="undated",
        tickers=["AAA"],
    )
    return frames


def config(**kw):
    base: dict[str, Any] = {
        "symbols": SYMBOLS,
        "strategies": (
            StrategySpec("momentum"),
            StrategySpec("mean_reversion"),
            StrategySpec("news_driven"),
        ),
        "start": T0 + timedelta(days=40),  # history before it warms the strategies up
        "initial_capital": 100_000.0,
        "learning": True,
        "learning_params": {"update": {"min_trades": 3}},
        "sizing": SizingKind.RISK,
    }
    base.update(kw)
    return BacktestConfig(**base)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_run_is_loaded_replayed_and_stored_once(data_dir):
    seed_market()
    run = backtest_run_create(config=config(), walk_forward="120:40")
    run = backtest_run_execute(run_id=run.pk)
    assert run.status == BacktestRun.Status.DONE, run.error
    assert run.progress == 1.0
    assert len(run.data_hash) == 64
    assert run.trades and run.equity_curve
    assert run.equity_curve[0][0] >= config().start.isoformat()[:10]
    inputs = run.metrics["inputs"]
    assert inputs["news_undated"] == 0  # the undated item counts from its fetch time, as live
    assert sum(inputs["news_stored"].values()) > 0
    assert sum(inputs["news_scored_here"].values()) > 0
    assert inputs["scorer"]
    assert set(run.attribution) >= {"momentum", "mean_reversion"}
    assert run.weight_history[0]["reason"] == "initial"
    assert Path(run.chart_path).is_file()
    assert Path(run.chart_path).parent == data_dir / "backtests"
    assert run.metrics["walk_forward"]["windows"]
    # claiming is idempotent: a finished run is not replayed
    again = backtest_run_execute(run_id=run.pk)
    assert again.finished_at == run.finished_at


@pytest.mark.django_db
def test_same_config_same_data_same_stored_trades(data_dir):
    seed_market()
    a = backtest_run_execute(run_id=backtest_run_create(config=config()).pk)
    b = backtest_run_execute(run_id=backtest_run_create(config=config()).pk)
    assert a.status == b.status == BacktestRun.Status.DONE
    assert a.trades == b.trades and a.data_hash == b.data_hash


@pytest.mark.django_db
def test_missing_data_fails_the_run_with_a_reason(data_dir):
    run = backtest_run_execute(run_id=backtest_run_create(config=config(symbols=("ZZZ",))).pk)
    assert run.status == BacktestRun.Status.FAILED
    assert "no bars" in run.error


@pytest.mark.django_db
def test_command_prints_summary_and_writes_chart(data_dir):
    seed_market()
    out = StringIO()
    call_command(
        "backtest",
        "--symbols",
        "AAA,BBB",
        "--start",
        "2020-02-10",
        "--learning",
        "--min-trades",
        "3",
        "--walk-forward",
        "120:40",
        stdout=out,
        stderr=StringIO(),
    )
    text = out.getvalue()
    assert "final equity" in text and "credited P&L" in text and "walk-forward" in text
    run = BacktestRun.objects.get()
    assert run.status == BacktestRun.Status.DONE
    assert Path(run.chart_path).is_file()


@pytest.mark.django_db(transaction=True)
def test_queued_run_executes_on_the_backtest_queue(data_dir, celery_workers, redis_conn):
    seed_market()
    celery_workers(["backtest"], {"TRADEBOT_DATA_DIR": str(data_dir)})
    with transaction.atomic():
        run = backtest_enqueue(config=config())
    done: Any = wait_for(
        lambda: BacktestRun.objects.filter(pk=run.pk, status__in=["done", "failed"]).first(),
        timeout=120,
    )
    assert done.status == BacktestRun.Status.DONE, done.error
    assert done.progress == 1.0 and done.trades
    assert done.started_at <= done.finished_at <= timezone.now()
