"""Trading costs: commission and slippage models (pure, shared by the simulated broker and backtests).

Every model is a frozen dataclass whose parameters are stored as ``Decimal`` (exact, hashable,
serialisable). Each model answers in the caller's number type: pass ``Decimal`` and get ``Decimal``
(the broker's books), pass ``float`` and get ``float`` (the backtester's hot loop), or call the
``*_array`` variant on NumPy arrays (vectorised sweeps). The three paths compute the same formula.

Conventions: ``qty`` is the absolute number of shares (sign is ignored), ``price`` the fill price
before slippage, ``side`` is ``"buy"`` or ``"sell"`` (``OrderSide`` is a ``StrEnum``, so it works).
Slippage always moves the price against the trader: up for buys, down for sells.
"""

from __future__ import annotations

from typing import Any

from apps.execution.costs._base import FloatArray
from apps.execution.costs._base import _dec as _dec
from apps.execution.costs.commission import (
    BpsCommission,
    CommissionModel,
    NoCommission,
    PerOrderCommission,
    PerShareCommission,
)
from apps.execution.costs.slippage import (
    BpsSlippage,
    NoSlippage,
    SlippageModel,
    SpreadSlippage,
    VolumeSlippage,
)

__all__ = [
    "COMMISSION_MODELS",
    "SLIPPAGE_MODELS",
    "BpsCommission",
    "BpsSlippage",
    "CommissionModel",
    "FloatArray",
    "NoCommission",
    "NoSlippage",
    "PerOrderCommission",
    "PerShareCommission",
    "SlippageModel",
    "SpreadSlippage",
    "VolumeSlippage",
    "commission_from_dict",
    "commission_parse",
    "slippage_from_dict",
    "slippage_parse",
]

COMMISSION_MODELS: dict[str, type[CommissionModel]] = {
    m.kind: m for m in (NoCommission, PerShareCommission, PerOrderCommission, BpsCommission)
}
SLIPPAGE_MODELS: dict[str, type[SlippageModel]] = {
    m.kind: m for m in (NoSlippage, BpsSlippage, SpreadSlippage, VolumeSlippage)
}


def commission_from_dict(data: dict[str, Any]) -> CommissionModel:
    """Inverse of ``CommissionModel.to_dict``: ``{"kind": "bps", "bps": "20"}``."""
    params = dict(data)
    cls = COMMISSION_MODELS[str(params.pop("kind"))]
    return cls(**params)


def slippage_from_dict(data: dict[str, Any]) -> SlippageModel:
    """Inverse of ``SlippageModel.to_dict``: ``{"kind": "spread", "fraction": "0.5"}``."""
    params = dict(data)
    cls = SLIPPAGE_MODELS[str(params.pop("kind"))]
    return cls(**params)


def commission_parse(spec: str) -> CommissionModel:
    """CLI form ``kind[:value]``: ``bps:20``, ``per_share:0.005``, ``per_order:1``, ``none``."""
    kind, _, value = spec.partition(":")
    if kind == "none":
        return NoCommission()
    if kind == "bps":
        return BpsCommission(bps=_dec(value or "10"))
    if kind == "per_share":
        return PerShareCommission(per_share=_dec(value or "0.005"))
    if kind == "per_order":
        return PerOrderCommission(fee_per_order=_dec(value or "1"))
    raise ValueError(f"unknown commission model {spec!r}")


def slippage_parse(spec: str) -> SlippageModel:
    """CLI form ``kind[:value]``: ``bps:5``, ``spread:2`` (default spread bps), ``volume:0.1``."""
    kind, _, value = spec.partition(":")
    if kind == "none":
        return NoSlippage()
    if kind == "bps":
        return BpsSlippage(bps=_dec(value or "5"))
    if kind == "spread":
        return SpreadSlippage(default_spread_bps=_dec(value or "2"))
    if kind == "volume":
        return VolumeSlippage(impact=_dec(value or "0.1"))
    raise ValueError(f"unknown slippage model {spec!r}")
