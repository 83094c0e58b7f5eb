"""Writes of the backtesting stage: create a run, execute it (load once, replay in memory, write
once), report progress, and queue it on the ``backtest`` queue."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.backtests import metrics
from apps.backtests.models import BacktestRun
from apps.bus import jobs
from apps.core.clock import wall_now
from backtesting.config import BacktestConfig
from backtesting.engine import backtest_run
from backtesting.loaders import frames_load
from backtesting.report import chart_write
from backtesting.walkforward import WalkForwardConfig, walk_forward

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]
PROGRESS_EVERY_S = 1.0  # progress writes are throttled: the replay itself never waits on the DB


def backtest_run_create(
    *, config: BacktestConfig, walk_forward: str | None = None, name: str = ""
) -> BacktestRun:
    """A queued run. ``walk_forward`` is ``TRAIN:TEST[:STEP]`` in bars (validated here)."""
    if walk_forward:
        WalkForwardConfig.parse(walk_forward)
    payload = {**config.to_dict(), "walk_forward": walk_forward}
    return BacktestRun.objects.create(name=name or config.name, config=payload)


def backtest_enqueue(
    *, config: BacktestConfig, walk_forward: str | None = None, name: str = ""
) -> BacktestRun:
    """Create the run and send it to the ``backtest`` queue once the row is committed."""
    run = backtest_run_create(config=config, walk_forward=walk_forward, name=name)
    run_id = run.pk
    transaction.on_commit(lambda: jobs.enqueue(jobs.BACKTEST_EXECUTE, (run_id,)))
    return run


def backtest_progress_set(*, run_id: int, fraction: float) -> None:
    BacktestRun.objects.filter(pk=run_id, status=BacktestRun.Status.RUNNING).update(
        progress=max(0.0, min(1.0, fraction))
    )


def _progress_writer(run_id: int, echo: ProgressFn | None) -> ProgressFn:
    last = [0.0]

    def report(fraction: float) -> None:
        if echo is not None:
            echo(fraction)
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            backtest_progress_set(run_id=run_id, fraction=fraction)

    return report


def chart_path_for(run_id: int) -> Path:
    return Path(settings.DATA_DIR) / "backtests" / f"run_{run_id}.png"


def backtest_run_execute(
    *, run_id: int, progress: ProgressFn | None = None, chart: bool = True
) -> BacktestRun:
    """Claim a queued run, replay it, store its results. Running it again does nothing.

    The only writes before the end are the claim and throttled progress updates; inputs are read
    once (:func:`backtesting.loaders.frames_load`) and results written in one update.
    """
    claimed = BacktestRun.objects.filter(pk=run_id, status=BacktestRun.Status.QUEUED).update(
        status=BacktestRun.Status.RUNNING, started_at=wall_now(), progress=0.0
    )
    run = BacktestRun.objects.get(pk=run_id)
    if not claimed:
        log.info("backtest %s is %s, not queued: nothing to do", run_id, run.status)
        return run
    t0 = time.perf_counter()
    report = _progress_writer(run_id, progress)
    try:
        config = BacktestConfig.from_dict(run.config)
        wf_spec = run.config.get("walk_forward")
        frames, loaded = frames_load(config)
        if not frames:
            raise ValueError(f"no bars for {list(config.symbols)} in the requested range")
        metrics.NEWS_SCORED_IN_MEMORY.inc(sum(loaded.news_scored_here.values()))
        wf_out: dict[str, Any] | None = None
        if wf_spec:
            wf = walk_forward(
                config, frames, WalkForwardConfig.parse(wf_spec), progress=lambda f: report(0.5 * f)
            )
            wf_out = wf.to_dict()
        t_engine = time.perf_counter()
        result = backtest_run(
            config,
            frames,
            progress=(lambda f: report(0.5 + 0.5 * f)) if wf_spec else report,
        )
        engine_s = time.perf_counter() - t_engine
        chart_file = chart_write(result, chart_path_for(run_id)) if chart else None
        stored_metrics: dict[str, Any] = {
            **result.metrics,
            "inputs": loaded.to_dict(),
            "declined_entries": result.extras.get("declined_entries", {}),
            "engine_seconds": round(engine_s, 4),
        }
        if wf_out is not None:
            stored_metrics["walk_forward"] = wf_out
        BacktestRun.objects.filter(pk=run_id).update(
            status=BacktestRun.Status.DONE,
            progress=1.0,
            data_hash=result.data_hash,
            metrics=stored_metrics,
            trades=result.trades,
            equity_curve=result.equity_points(),
            weight_history=result.weight_history,
            attribution=result.attribution,
            chart_path=str(chart_file) if chart_file else "",
            finished_at=wall_now(),
        )
        metrics.RUNS.labels("done").inc()
        metrics.TRADES.inc(len(result.trades))
        if engine_s > 0:
            metrics.BARS_PER_SECOND.set(result.bars / engine_s)
        log.info(
            "backtest %s done: %d trades, final equity %s, %d weight updates, data %s",
            run_id,
            len(result.trades),
            result.metrics.get("final_equity"),
            len(result.weight_history) - 1,
            result.data_hash[:12],
        )
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run, not retried
        log.exception("backtest %s failed", run_id)
        BacktestRun.objects.filter(pk=run_id).update(
            status=BacktestRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"[-5000:],
            finished_at=wall_now(),
        )
        metrics.RUNS.labels("failed").inc()
    finally:
        metrics.RUN_SECONDS.observe(time.perf_counter() - t0)
    run.refresh_from_db()
    return run
