"""First-run set-up of the whole bot (``manage.py bootstrap``, run by ``make run``)."""

from __future__ import annotations

from apps.execution.models import TradingControl
from apps.strategies.seed import strategies_seed
from tasks import schedule


def bootstrap() -> dict[str, object]:
    TradingControl.objects.get_or_create(pk=1)
    return {
        "strategies created": strategies_seed(),
        "beat entries": schedule.seed(),
    }
