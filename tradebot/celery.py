"""The Celery app. Configuration comes from Django settings (``CELERY_`` namespace)."""

from __future__ import annotations

import gc
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready
from django.conf import settings

from apps.bus.queues import task_queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradebot.settings.base")

app = Celery("tradebot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tasks"], related_name=None)  # type: ignore[arg-type]


@app.on_after_finalize.connect
def _routes(sender: Celery, **_: object) -> None:
    sender.conf.task_queues = task_queues()


@worker_init.connect
def _worker_metrics(sender: object = None, **_: object) -> None:
    """Each worker serves its own Prometheus /metrics on METRICS_PORT (see README)."""
    from tradebot import liveness, telemetry  # noqa: PLC0415 - celery.py loads with the settings; telemetry starts in workers

    telemetry.setup(service=os.environ.get("OTEL_SERVICE_NAME", "tradebot-worker"))
    telemetry.serve_worker_metrics()
    # The health check's view of this worker: alive, and no task past its limit (liveness.py).
    hostname = str(getattr(sender, "hostname", "") or "worker")
    liveness.install(
        hostname.split("@", 1)[0],
        stuck_after_s=settings.WORKER_STUCK_AFTER_S,
        exit_after_s=settings.WORKER_STUCK_EXIT_AFTER_S or None,
    )


@worker_process_init.connect
def _child_telemetry(**_: object) -> None:
    from tradebot import telemetry  # noqa: PLC0415 - celery.py loads with the settings; telemetry starts in workers

    telemetry.setup(service=os.environ.get("OTEL_SERVICE_NAME", "tradebot-worker"))


@worker_ready.connect
def _freeze_startup_heap(**_: object) -> None:
    """Move everything loaded at start-up (Django, the models, a scorer) out of the collector's
    view: a full collection then walks only what tasks allocate, which keeps its pauses out of a
    stage's latency tail."""
    gc.collect()
    gc.freeze()
