"""Commission models: per share (with minimum and cap), per order, basis points."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import numpy as np

from apps.execution.costs._base import _BPS, FloatArray, N, _dec, _like, _Model


class CommissionModel(_Model, ABC):
    """Fee charged for one fill of ``qty`` shares at ``price``."""

    @abstractmethod
    def fee(self, qty: N, price: N) -> N:
        """Commission in money for one fill (always >= 0)."""

    @abstractmethod
    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        """Vectorised :meth:`fee`."""

    def rate(self) -> float:
        """Proportional part of the fee as a fraction of traded value (for all-in position sizing)."""
        return 0.0

    def fee_float(self, qty: float, price: float) -> float:
        """:meth:`fee` for plain floats (the hot path of the backtester); same formula, same bits."""
        return self.fee(float(qty), float(price))


@dataclass(frozen=True)
class NoCommission(CommissionModel):
    kind: ClassVar[str] = "none"

    def fee(self, qty: N, price: N) -> N:
        return _like(price, Decimal(0))

    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        return np.zeros(np.broadcast(qty, price).shape)


@dataclass(frozen=True)
class PerShareCommission(CommissionModel):
    """``per_share`` × shares, at least ``minimum`` per order, at most ``max_pct`` of value (0 = no cap).

    IBKR-style defaults: 0.005 per share, 1.00 minimum, capped at 1% of trade value.
    """

    kind: ClassVar[str] = "per_share"
    per_share: Decimal = Decimal("0.005")
    minimum: Decimal = Decimal("1.00")
    max_pct: Decimal = Decimal("0.01")

    def fee(self, qty: N, price: N) -> N:
        q = abs(qty)
        if q == 0:
            return _like(price, Decimal(0))
        if isinstance(price, Decimal):
            qd = _dec(q)
            fee_d = max(qd * self.per_share, self.minimum)
            if self.max_pct > 0:
                fee_d = min(fee_d, qd * price * self.max_pct)
            return fee_d
        qf = float(q)
        fee_f = max(qf * float(self.per_share), float(self.minimum))
        if self.max_pct > 0:
            fee_f = min(fee_f, qf * float(price) * float(self.max_pct))
        return fee_f

    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        q = np.abs(np.asarray(qty, dtype=np.float64))
        p = np.asarray(price, dtype=np.float64)
        out = np.maximum(q * float(self.per_share), float(self.minimum))
        if self.max_pct > 0:
            out = np.minimum(out, q * p * float(self.max_pct))
        return np.where(q == 0, 0.0, out)


@dataclass(frozen=True)
class PerOrderCommission(CommissionModel):
    """A flat ``fee`` for every order that fills (zero-quantity fills cost nothing)."""

    kind: ClassVar[str] = "per_order"
    fee_per_order: Decimal = Decimal("1.00")

    def fee(self, qty: N, price: N) -> N:
        if abs(qty) == 0:
            return _like(price, Decimal(0))
        return _like(price, self.fee_per_order)

    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        q = np.asarray(qty, dtype=np.float64)
        p = np.asarray(price, dtype=np.float64)
        return np.where(q == 0, 0.0, float(self.fee_per_order)) + 0.0 * p


@dataclass(frozen=True)
class BpsCommission(CommissionModel):
    """``bps`` basis points of traded value, at least ``minimum`` per order.

    ``BpsCommission(bps=20)`` is backtesting.py's ``commission=0.002``.
    """

    kind: ClassVar[str] = "bps"
    bps: Decimal = Decimal(10)
    minimum: Decimal = Decimal(0)
    _bps_f: float = field(default=0.0, init=False, repr=False, compare=False)
    _min_f: float = field(default=0.0, init=False, repr=False, compare=False)

    def fee(self, qty: N, price: N) -> N:
        q = abs(qty)
        if q == 0:
            return _like(price, Decimal(0))
        if isinstance(price, Decimal):
            return max(_dec(q) * price * self.bps / _BPS, self.minimum)
        return self.fee_float(float(q), float(price))

    def __post_init__(self) -> None:
        super().__post_init__()
        # float copies of the parameters for fee_float (not dataclass fields: eq/hash unchanged)
        object.__setattr__(self, "_bps_f", float(self.bps))
        object.__setattr__(self, "_min_f", float(self.minimum))

    def fee_float(self, qty: float, price: float) -> float:
        if qty == 0:
            return 0.0
        return max(abs(qty) * price * self._bps_f / 10_000.0, self._min_f)

    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        q = np.abs(np.asarray(qty, dtype=np.float64))
        p = np.asarray(price, dtype=np.float64)
        out = np.maximum(q * p * float(self.bps) / 10_000.0, float(self.minimum))
        return np.where(q == 0, 0.0, out)

    def rate(self) -> float:
        return float(self.bps) / 10_000.0
