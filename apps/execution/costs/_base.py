"""Shared plumbing of the cost models: number types, Decimal coercion, dict round-trip."""

from __future__ import annotations

from dataclasses import fields
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
            if not f.init:
                continue
            object.__setattr__(self, f.name, _dec(getattr(self, f.name)))
            if getattr(self, f.name) < 0:
                raise ValueError(f"{type(self).__name__}.{f.name} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            if f.init:
                out[f.name] = str(getattr(self, f.name))
        return out
