"""News tasks: beat dispatches due sources; each source is polled in its own task.

One task per source means a source that hangs holds one worker slot until its own timeout, while
the other sources' tasks keep running on the other slots (and after it, on a solo worker).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.bus.queues import Queue
from apps.news import services


@shared_task(name="news.dispatch", queue=Queue.NEWS.value, ignore_result=True)
def dispatch() -> list[int]:
    """Beat: claim the sources that are due and queue one poll task for each."""
    claimed = services.sources_claim_due()
    for source_id in claimed:
        poll_source.apply_async(
            args=(source_id,), queue=Queue.NEWS.value, expires=settings.NEWS_POLL_EXPIRES_S
        )
    return claimed


@shared_task(
    name="news.poll_source",
    queue=Queue.NEWS.value,
    acks_late=True,
    ignore_result=True,
    # Backstop for a client that ignores its own timeouts (prefork pool only).
    soft_time_limit=settings.NEWS_POLL_TIME_LIMIT_S,
    time_limit=settings.NEWS_POLL_TIME_LIMIT_S + 10,
)
def poll_source(source_id: int, force: bool = False) -> str:
    """Poll one source. Source failures are recorded on the source, never raised."""
    return services.source_poll(source_id=source_id, force=force).outcome
