"""Backtest tasks: run a stored backtest on the ``backtest`` queue, reporting progress on the run."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.backtests.services import backtest_run_execute
from apps.bus.queues import Queue


@shared_task(name="backtest.execute", queue=Queue.BACKTEST.value, acks_late=True)
def backtest_execute(run_id: int) -> dict[str, Any]:
    """Execute queued run ``run_id`` (idempotent: a run that is not queued any more is left as is).

    Progress goes to ``BacktestRun.progress``; failures are recorded on the run, not retried
    (a backtest fails the same way twice)."""
    run = backtest_run_execute(run_id=run_id)
    return {"run_id": run.pk, "status": run.status, "data_hash": run.data_hash}
