"""Decimal arithmetic of the learning engine: one explicit context, so results never depend on
whatever ``decimal.getcontext()`` a caller has set, and 8-decimal quanta (the weight columns)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

CTX = Context(prec=34, rounding=ROUND_HALF_EVEN)
Q8 = Decimal("0.00000001")
ZERO = Decimal(0)
ONE = Decimal(1)


def q8(value: Decimal) -> Decimal:
    """Round half-even to 8 decimals."""
    return value.quantize(Q8, rounding=ROUND_HALF_EVEN, context=CTX)


def q8_floor(value: Decimal) -> Decimal:
    """Round down to 8 decimals."""
    return value.quantize(Q8, rounding=ROUND_FLOOR, context=CTX)


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """A float through its shortest repr (``0.1`` -> ``Decimal('0.1')``), anything else as is."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)
