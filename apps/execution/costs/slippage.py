"""Slippage models: basis points, spread-based, volume-based (market impact)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import numpy as np

from apps.execution.costs._base import _BPS, FloatArray, N, _dec, _like, _Model, _sign


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
