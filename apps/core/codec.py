"""The one serialiser for contracts: frozen dataclasses <-> JSON-safe dicts.

Decimals travel as strings (never floats), datetimes as ISO-8601 with an offset (naive datetimes are
refused), tuples as lists. Decoding is driven by the dataclass's type hints and is strict: a missing
required field or a wrong type raises :class:`ContractError`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar

from apps.core.contracts import Contract, contract_for

C = TypeVar("C", bound=Contract)


class ContractError(ValueError):
    """A payload does not match its contract. Never retried: it goes to the dead-letter stream."""


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ContractError(f"naive datetime {value!r}: contracts carry aware UTC times")
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(tp: Any, raw: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return raw
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if raw is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, raw, where)
            except ContractError as exc:
                errors.append(str(exc))
        raise ContractError(f"{where}: {raw!r} matches none of {args}: {errors}")
    if origin is tuple:
        if not isinstance(raw, list):
            raise ContractError(f"{where}: expected a list, got {type(raw).__name__}")
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(raw))
    if origin is dict:
        if not isinstance(raw, dict):
            raise ContractError(f"{where}: expected an object")
        _, vt = typing.get_args(tp) or (str, Any)
        return {k: _convert(vt, v, f"{where}.{k}") for k, v in raw.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_jsonable(tp, raw, where)  # type: ignore[type-var]
    if tp is Decimal:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ContractError(f"{where}: decimals travel as strings, got {raw!r}")
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            raise ContractError(f"{where}: not a decimal: {raw!r}") from None
    if tp is datetime:
        if not isinstance(raw, str):
            raise ContractError(f"{where}: expected an ISO datetime string")
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ContractError(f"{where}: not an ISO datetime: {raw!r}") from None
        if value.tzinfo is None:
            raise ContractError(f"{where}: naive datetime {raw!r}")
        return value
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ContractError(f"{where}: expected a number, got {raw!r}")
        return float(raw)
    if tp in (int, str, bool):
        if type(raw) is not tp:
            raise ContractError(f"{where}: expected {tp.__name__}, got {type(raw).__name__}")
        return raw
    if isinstance(tp, type) and issubclass(tp, str):  # StrEnum / Literal-like
        try:
            return tp(raw)
        except ValueError:
            raise ContractError(f"{where}: {raw!r} is not a valid {tp.__name__}") from None
    if origin is typing.Literal:
        if raw not in typing.get_args(tp):
            raise ContractError(f"{where}: {raw!r} not in {typing.get_args(tp)}")
        return raw
    raise ContractError(f"{where}: unsupported type {tp!r}")


def from_jsonable(cls: type[C], raw: Any, where: str | None = None) -> C:
    where = where or cls.__name__
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected an object, got {type(raw).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in raw:
            kwargs[f.name] = _convert(hints[f.name], raw[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ContractError(f"{where}: missing field {f.name!r}")
    return cls(**kwargs)


def dumps(contract: Contract) -> str:
    """Serialise a contract with its type and version."""
    body = {"type": contract.TYPE, "v": contract.VERSION, "data": to_jsonable(contract)}
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def loads(text: str | bytes) -> Contract:
    """Parse what :func:`dumps` wrote, checking the type, version and every field."""
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or not {"type", "v", "data"} <= body.keys():
        raise ContractError("envelope must have type, v and data")
    try:
        cls = contract_for(str(body["type"]), int(body["v"]))
    except (LookupError, ValueError) as exc:
        raise ContractError(str(exc)) from None
    return from_jsonable(cls, body["data"])
