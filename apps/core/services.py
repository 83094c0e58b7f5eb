"""First-run set-up shared by `make run`, tests and the backtester."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

# name -> description. The weights start equal; the learning engine moves them.
DEFAULT_STRATEGIES: dict[str, str] = {
    "momentum": "Trend following: rate of change and MACD on closes.",
    "mean_reversion": "Fades stretched moves: RSI and Bollinger band position.",
    "news_driven": "Point-in-time news sentiment per ticker with time decay.",
}


@transaction.atomic
def strategies_seed() -> int:
    from apps.strategies.models import Strategy

    created = 0
    n = len(DEFAULT_STRATEGIES)
    equal = (Decimal(1) / Decimal(n)).quantize(Decimal("0.00000001"))
    # The rounding remainder goes to the first strategy, so the weights sum to exactly 1.
    first = Decimal(1) - equal * (n - 1)
    for i, (name, description) in enumerate(DEFAULT_STRATEGIES.items()):
        w = first if i == 0 else equal
        _, was_created = Strategy.objects.get_or_create(
            name=name,
            defaults={"description": description, "weight": w, "initial_weight": w},
        )
        created += int(was_created)
    return created


def bootstrap() -> dict[str, object]:
    from apps.execution.models import TradingControl
    from tasks import schedule

    TradingControl.objects.get_or_create(pk=1)
    return {
        "strategies created": strategies_seed(),
        "beat entries": schedule.seed(),
    }
