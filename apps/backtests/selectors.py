"""Reads of backtest runs."""

from __future__ import annotations

from typing import Any

from apps.backtests.models import BacktestRun


def backtest_run_get(*, run_id: int) -> BacktestRun:
    return BacktestRun.objects.get(pk=run_id)


def backtest_runs_compare(*, run_ids: list[int]) -> list[dict[str, Any]]:
    """Headline metrics of several runs side by side (the dashboard's multi-run comparison)."""
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in BacktestRun.objects.filter(pk__in=run_ids).values(
            "id", "name", "status", "data_hash", "metrics", "created_at"
        )
    ]
    return sorted(rows, key=lambda r: run_ids.index(int(r["id"])))
