"""Strict JSON input fields: DRF coerces "5" to 5, 1 to True and 0 to "0"; the API refuses a value
of the wrong JSON type instead (what its OpenAPI document promises)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictRegexField(serializers.RegexField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class StrictDecimalField(serializers.DecimalField):
    """A decimal sent as a JSON number or a numeric string (both are documented)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        return super().to_internal_value(data)


KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
SCALAR_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "number"},
        {"type": "boolean"},
        {"type": "string", "maxLength": 200, "pattern": "^[^\\x00]*$"},
    ]
}


@extend_schema_field(SCALAR_SCHEMA)
class ScalarField(serializers.Field):  # type: ignore[type-arg]
    """A number, a boolean or a short string without NUL (what a strategy parameter can be)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool | int | float):
            return data
        if isinstance(data, str) and len(data) <= 200 and "\x00" not in data:
            return data
        raise serializers.ValidationError("a number, a boolean or a string (<= 200 chars, no NUL)")

    def to_representation(self, value: Any) -> Any:
        return value
