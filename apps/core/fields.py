"""Field presets: money, prices and quantities are Decimals with fixed precision."""

from __future__ import annotations

from typing import Any

from django.db import models


def price_field(**kw: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(max_digits=18, decimal_places=6, **kw)


def qty_field(**kw: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(max_digits=18, decimal_places=6, **kw)


def money_field(**kw: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(max_digits=20, decimal_places=4, **kw)


def weight_field(**kw: Any) -> models.DecimalField[Any, Any]:
    """Strategy weights: 8 decimal places, so replaying the audit log is exact."""
    return models.DecimalField(max_digits=12, decimal_places=8, **kw)
