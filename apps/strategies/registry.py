"""Strategy name -> implementation. The ``strategies`` table stores the name, weight and params."""

from __future__ import annotations

from typing import Any

from apps.strategies.base import Strategy
from apps.strategies.mean_reversion import MeanReversion
from apps.strategies.momentum import Momentum
from apps.strategies.news_driven import NewsDriven

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Momentum, MeanReversion, NewsDriven)
}


def strategy_build(name: str, params: dict[str, Any] | None = None) -> Strategy:
    """Instantiate strategy ``name`` with its frozen config built from ``params``."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise LookupError(f"unknown strategy {name!r}; known: {sorted(STRATEGIES)}") from None
    return cls.from_params(params)
