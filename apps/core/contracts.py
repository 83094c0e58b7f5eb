"""Base of every frozen, versioned payload that travels between stages.

A contract is a frozen dataclass with a ``TYPE`` (stable name) and a ``VERSION``. It is serialised in
exactly one place (:mod:`apps.core.codec`). Contracts never change shape in place: a change of shape
is a new ``VERSION``, and decoders keep accepting the versions still in flight.
No Django imports here: backtests pass these values around in memory.
"""

from __future__ import annotations

from typing import ClassVar

_REGISTRY: dict[tuple[str, int], type[Contract]] = {}


class Contract:
    """Subclasses are ``@dataclass(frozen=True, slots=True)`` with a unique ``TYPE``."""

    __slots__ = ()
    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            _REGISTRY[(cls.TYPE, cls.VERSION)] = cls


def contract_for(type_name: str, version: int) -> type[Contract]:
    try:
        return _REGISTRY[(type_name, version)]
    except KeyError:
        raise LookupError(f"unknown contract {type_name!r} v{version}") from None
