"""Queue a Celery task by its name, so that code below ``tasks/`` never imports ``tasks/``.

The task's queue comes from ``CELERY_TASK_ROUTES`` (the ``<stage>.`` prefix of its name) unless
``queue`` is given. ``apps/bus/tests/test_topology.py`` checks that every name used here is a task.
"""

from __future__ import annotations

from typing import Any

from celery import current_app

# The tasks that layers below ``tasks/`` queue by name.
BACKTEST_EXECUTE = "backtest.execute"
NEWS_POLL_SOURCE = "news.poll_source"
SIGNALS_BARS_ARRIVED = "signals.bars_arrived"
BY_NAME = (BACKTEST_EXECUTE, NEWS_POLL_SOURCE, SIGNALS_BARS_ARRIVED)


def enqueue(
    task: str,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    queue: str | None = None,
) -> None:
    current_app.send_task(task, args=args, kwargs=kwargs or {}, queue=queue)
