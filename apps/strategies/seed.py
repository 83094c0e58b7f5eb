"""The default strategies table: seeded by ``manage.py bootstrap``, tests and the replay."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.strategies.models import Strategy

# name -> description. The weights start equal; the learning engine moves them.
DEFAULT_STRATEGIES: dict[str, str] = {
    "momentum": "Trend following: rate of change and MACD on closes.",
    "mean_reversion": "Fades stretched moves: RSI and Bollinger band position.",
    "news_driven": "Point-in-time news sentiment per ticker with time decay.",
}


@transaction.atomic
def strategies_seed() -> int:
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
