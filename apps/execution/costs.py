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

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

N = TypeVar("N", Decimal, float)
FloatArray = npt.NDArray[np.float64]

_BPS = Decimal(10_000)


def _dec(value: object) -> Decimal:
    """Parameters arrive as str/int/float/Decimal; floats go through ``str`` to stay exact."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"not a number: {value!r}")
    return Decimal(str(value))


def _like(template: N, value: Decimal) -> N:
    """``value`` in the number type of ``template``."""
    if isinstance(template, Decimal):
        return value
    return float(value)


def _sign(side: str) -> int:
    s = str(side).lower()
    if s == "buy":
        return 1
    if s == "sell":
        return -1
    raise ValueError(f"side must be 'buy' or 'sell', not {side!r}")


class _Model:
    """Shared plumbing: Decimal coercion of parameters, dict round-trip."""

    kind: ClassVar[str]

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            object.__setattr__(self, f.name, _dec(getattr(self, f.name)))
            if getattr(self, f.name) < 0:
                raise ValueError(f"{type(self).__name__}.{f.name} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = str(getattr(self, f.name))
        return out


# ---------------------------------------------------------------------------------------------
# Commission
# ---------------------------------------------------------------------------------------------


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

    def fee(self, qty: N, price: N) -> N:
        q = abs(qty)
        if q == 0:
            return _like(price, Decimal(0))
        if isinstance(price, Decimal):
            return max(_dec(q) * price * self.bps / _BPS, self.minimum)
        return max(float(q) * float(price) * float(self.bps) / 10_000.0, float(self.minimum))

    def fee_array(self, qty: FloatArray, price: FloatArray) -> FloatArray:
        q = np.abs(np.asarray(qty, dtype=np.float64))
        p = np.asarray(price, dtype=np.float64)
        out = np.maximum(q * p * (float(self.bps) / 10_000.0), float(self.minimum))
        return np.where(q == 0, 0.0, out)

    def rate(self) -> float:
        return float(self.bps) / 10_000.0


# ---------------------------------------------------------------------------------------------
# Slippage
# ---------------------------------------------------------------------------------------------


class SlippageModel(_Model, ABC):
    """Moves a reference price against the trader. ``volume`` (bar volume) and ``spread`` (quoted
    ask − bid in money) are optional market context; models that need them fall back when absent."""

    @abstractmethod
    def offset(self, price: N, qty: N, *, volume: N | None = None, spread: N | None = None) -> N:
        """Unsigned price offset per share (>= 0)."""

    @abstractmethod
    def offset_array(
        self,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        """Vectorised :meth:`offset`."""

    def fill_price(
        self, side: str, price: N, qty: N, *, volume: N | None = None, spread: N | None = None
    ) -> N:
        """The price actually paid (buy) or received (sell)."""
        off = self.offset(price, qty, volume=volume, spread=spread)
        return price + off if _sign(side) > 0 else price - off

    def fill_price_array(
        self,
        sign: FloatArray,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        """Vectorised :meth:`fill_price`; ``sign`` is +1 for buys and -1 for sells."""
        off = self.offset_array(price, qty, volume=volume, spread=spread)
        return np.asarray(price, dtype=np.float64) + np.sign(sign) * off


@dataclass(frozen=True)
class NoSlippage(SlippageModel):
    kind: ClassVar[str] = "none"

    def offset(self, price: N, qty: N, *, volume: N | None = None, spread: N | None = None) -> N:
        return _like(price, Decimal(0))

    def offset_array(
        self,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        return np.zeros(np.broadcast(price, qty).shape)


@dataclass(frozen=True)
class BpsSlippage(SlippageModel):
    """A fixed ``bps`` basis points of the price."""

    kind: ClassVar[str] = "bps"
    bps: Decimal = Decimal(5)

    def offset(self, price: N, qty: N, *, volume: N | None = None, spread: N | None = None) -> N:
        if isinstance(price, Decimal):
            return price * self.bps / _BPS
        return float(price) * float(self.bps) / 10_000.0

    def offset_array(
        self,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        p = np.asarray(price, dtype=np.float64)
        return p * (float(self.bps) / 10_000.0) + 0.0 * np.asarray(qty, dtype=np.float64)


@dataclass(frozen=True)
class SpreadSlippage(SlippageModel):
    """Cross half the spread: ``fraction`` × spread. Without a quoted spread, assume
    ``default_spread_bps`` of the price (a typical large-cap spread is 1–5 bps)."""

    kind: ClassVar[str] = "spread"
    fraction: Decimal = Decimal("0.5")
    default_spread_bps: Decimal = Decimal(2)

    def offset(self, price: N, qty: N, *, volume: N | None = None, spread: N | None = None) -> N:
        if isinstance(price, Decimal):
            sp = _dec(spread) if spread is not None else price * self.default_spread_bps / _BPS
            return self.fraction * abs(sp)
        spf = (
            float(spread)
            if spread is not None
            else float(price) * float(self.default_spread_bps) / 10_000.0
        )
        return float(self.fraction) * abs(spf)

    def offset_array(
        self,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        p = np.asarray(price, dtype=np.float64)
        if spread is None:
            sp = p * (float(self.default_spread_bps) / 10_000.0)
        else:
            sp = np.abs(np.asarray(spread, dtype=np.float64)) + 0.0 * p
        return float(self.fraction) * sp + 0.0 * np.asarray(qty, dtype=np.float64)


@dataclass(frozen=True)
class VolumeSlippage(SlippageModel):
    """Market impact growing with participation (zipline's volume-share model):
    ``price × impact × (qty / volume)²``, participation capped at ``max_participation``.
    Without volume (or zero volume) the order is treated as taking the whole cap."""

    kind: ClassVar[str] = "volume"
    impact: Decimal = Decimal("0.1")
    max_participation: Decimal = Decimal("0.025")

    def offset(self, price: N, qty: N, *, volume: N | None = None, spread: N | None = None) -> N:
        cap = self.max_participation
        if isinstance(price, Decimal):
            q = abs(_dec(qty))
            share = cap if not volume else min(q / abs(_dec(volume)), cap)
            return price * self.impact * share * share
        qf = abs(float(qty))
        sharef = float(cap) if not volume else min(qf / abs(float(volume)), float(cap))
        return float(price) * float(self.impact) * sharef * sharef

    def offset_array(
        self,
        price: FloatArray,
        qty: FloatArray,
        *,
        volume: FloatArray | None = None,
        spread: FloatArray | None = None,
    ) -> FloatArray:
        p = np.asarray(price, dtype=np.float64)
        q = np.abs(np.asarray(qty, dtype=np.float64))
        cap = float(self.max_participation)
        if volume is None:
            share = np.full(np.broadcast(p, q).shape, cap)
        else:
            v = np.abs(np.asarray(volume, dtype=np.float64))
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(v > 0, np.minimum(q / np.where(v > 0, v, 1.0), cap), cap)
        return p * float(self.impact) * share * share


# ---------------------------------------------------------------------------------------------
# Config round-trip (BacktestRun.config, settings)
# ---------------------------------------------------------------------------------------------

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
