"""The static topology: each route names a consumer that agrees with it, and publishing loads no stage."""

from __future__ import annotations

import subprocess
import sys

import pytest

from apps.bus import jobs, topology
from apps.bus.consumer import StreamConsumer


@pytest.mark.parametrize("route", topology.routes(), ids=lambda r: r.group)
def test_every_route_names_a_consumer_that_agrees(route: topology.Route) -> None:
    cls = topology.consumer_for(route.group)
    assert issubclass(cls, StreamConsumer)
    assert (cls.group, cls.stream, cls.queue) == (route.group, route.stream, route.queue)


def test_groups_are_unique_and_unknown_groups_are_refused() -> None:
    groups = [r.group for r in topology.routes()]
    assert len(groups) == len(set(groups))
    with pytest.raises(LookupError):
        topology.route("no-such-group")


def test_publishing_news_imports_no_consumer_and_no_execution_service() -> None:
    code = (
        "import sys, django; django.setup();"
        "import apps.news.services, apps.bus.outbox;"
        "from apps.bus.outbox import _groups_of;"
        "assert _groups_of(['news:raw']) == [('sentiment', 'sentiment')], _groups_of(['news:raw']);"
        "loaded = sorted(m for m in sys.modules if m.startswith(('tasks', 'apps.execution.services')));"
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "", out.stdout


def test_tasks_queued_by_name_exist_and_route_to_their_own_queue() -> None:
    """Layers below ``tasks/`` queue these by name (``apps.bus.jobs``): each must be a task, and
    the route its name takes must be the queue the task declares."""
    import tasks  # noqa: F401 - registers every task
    from tradebot.celery import app

    for name in jobs.BY_NAME:
        task = app.tasks[name]
        routed = app.amqp.router.route({}, name, args=(), kwargs={})["queue"]
        assert routed.name == task.queue, name
