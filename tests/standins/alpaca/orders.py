"""Alpaca's order, position and error bodies, rendered exactly as the Trading API sends them.

Every number is a *string* and timestamps are RFC 3339 UTC (``trading-api.json`` examples and
alpaca-py's fixtures).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Json = dict[str, Any]
OPEN = {"new", "accepted", "partially_filled", "pending_new"}
TYPES = {"market", "limit", "stop", "stop_limit", "trailing_stop"}
FILL_MODES = {"fill", "partial", "hold", "reject", "reject_async"}


class ApiError(Exception):
    """An error answer: HTTP status and Alpaca's ``{"code", "message"}`` body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> Json:
        return {"code": self.code, "message": self.message}


def iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def num(value: Decimal | None) -> str | None:
    """Alpaca sends numbers as strings without trailing zeros."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def asset_id(symbol: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-standin/{symbol}"))


def _dec(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ApiError(422, 40010001, f"invalid {name}") from None


@dataclass
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    trail_price: Decimal | None = None
    hwm: Decimal | None = None
    extended_hours: bool = False
    status: str = "new"
    filled_qty: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    failed_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    def to_json(self) -> Json:
        avg = self.filled_value / self.filled_qty if self.filled_qty else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at or self.created_at),
            "submitted_at": iso(self.created_at),
            "filled_at": iso(self.filled_at),
            "expired_at": None,
            "canceled_at": iso(self.canceled_at),
            "failed_at": iso(self.failed_at),
            "replaced_at": iso(self.replaced_at),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": asset_id(self.symbol),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": num(self.qty),
            "filled_qty": num(self.filled_qty),
            "filled_avg_price": num(avg.quantize(Decimal("0.0001")) if avg is not None else None),
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": None,
            "time_in_force": self.time_in_force,
            "limit_price": num(self.limit_price),
            "stop_price": num(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": num(self.trail_percent),
            "trail_price": num(self.trail_price),
            "hwm": num(self.hwm),
            "source": None,
            "subtag": None,
        }


@dataclass
class Position:
    qty: Decimal = Decimal(0)
    avg: Decimal = Decimal(0)


def position_body(symbol: str, pos: Position, price: Decimal) -> Json:
    """A position as ``GET /v2/positions`` renders it."""
    value, cost = pos.qty * price, pos.qty * pos.avg
    pl = value - cost
    body = {
        "avg_entry_price": num(pos.avg.quantize(Decimal("0.0001"))),
        "market_value": num(value),
        "cost_basis": num(cost),
        "unrealized_pl": num(pl),
        "unrealized_plpc": num(
            (pl / abs(cost)).quantize(Decimal("0.0001")) if cost else Decimal(0)
        ),
        "unrealized_intraday_pl": num(pl),
        "unrealized_intraday_plpc": "0",
        "current_price": num(price),
        "lastday_price": num(price),
        "change_today": "0",
    }
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "asset_marginable": True,
        "qty": num(pos.qty),
        "qty_available": num(pos.qty),
        "side": "long" if pos.qty > 0 else "short",
        **body,
        "usd": body,
    }


def account_body(
    cash: Decimal, long_v: Decimal, short_v: Decimal, equity: Decimal, bp: Decimal
) -> Json:
    """The account as ``GET /v2/account`` renders it (alpaca-py's fixture, our numbers)."""
    return {
        "id": "e6fe16f3-64a4-4921-8928-cadf02f92f98",
        "account_number": "PA3STANDIN",
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "buying_power": num(bp),
        "regt_buying_power": num(bp),
        "daytrading_buying_power": "0",
        "non_marginable_buying_power": num(bp),
        "options_buying_power": num(bp),
        "cash": num(cash),
        "accrued_fees": "0",
        "portfolio_value": num(equity),
        "equity": num(equity),
        "last_equity": num(equity),
        "long_market_value": num(long_v),
        "short_market_value": num(short_v),
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": "1",
        "daytrade_count": 0,
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "created_at": "2019-06-12T22:47:07.99658Z",
        "options_approved_level": 0,
        "options_trading_level": 0,
    }
