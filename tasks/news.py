"""News tasks: beat dispatches due sources; each source is polled in its own task.

One task per source means a source that hangs holds one worker slot until its own timeout, while
the other sources' tasks keep running on the other slots (and after it, on a solo worker).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.bus.queues import Queue
from apps.core.clock import wall_time
from apps.news import services


@shared_task(name="news.dispatch", queue=Queue.NEWS.value, ignore_result=True)
def dispatch() -> list[int]:
    """Beat: claim the sources that are due and queue one poll task for each."""
    claimed = services.sources_claim_due()
    queued_at = wall_time()
    for source_id in claimed:
        # No Celery ``expires``: an expired message would be dropped with nothing recorded. The
        # poll itself sees how long it waited and records the expiry as the source's error.
        poll_source.apply_async(
            args=(source_id,), kwargs={"queued_at": queued_at}, queue=Queue.NEWS.value
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
def poll_source(source_id: int, force: bool = False, queued_at: float | None = None) -> str:
    """Poll one source. Source failures (an expired poll too) are recorded on the source."""
    return services.source_poll(source_id=source_id, force=force, queued_at=queued_at).outcome
