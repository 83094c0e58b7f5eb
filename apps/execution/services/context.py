"""Which broker, which account rows and which risk settings a call of the execution services uses.

Live: the configured broker, ``TradingControl`` pk=1, publishing to ``trades:executed``.
The replay command: its own simulated broker, its own ``TradingControl`` row and broker label,
and (by default) nothing published, so replayed trades never reach the live consumers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.core.ratelimit import TokenBucket
from apps.core.redis_client import redis_client
from apps.execution.brokers.base import Broker
from apps.execution.brokers.chaos import ChaosSimulatedBroker
from apps.execution.brokers.registry import make_broker
from apps.execution.brokers.simulated import RedisStore, SimulatedBroker
from apps.execution.costs import commission_parse, slippage_parse
from apps.execution.risk import RiskConfig
from apps.market.clock import market_clock

LIVE_CONTROL_PK = 1


def risk_config_from_settings() -> RiskConfig:
    return RiskConfig(
        risk_per_trade=settings.RISK_PER_TRADE,
        max_position_pct=settings.RISK_MAX_POSITION_PCT,
        max_exposure_pct=settings.RISK_MAX_EXPOSURE_PCT,
        max_open_positions=settings.RISK_MAX_OPEN_POSITIONS,
        stop_mode=settings.RISK_STOP_MODE,
        stop_pct=settings.RISK_STOP_PCT,
        atr_mult=settings.RISK_ATR_MULT,
        stop_order_type=settings.RISK_STOP_ORDER_TYPE,
        daily_loss_limit_pct=settings.RISK_DAILY_LOSS_PCT,
        max_drawdown_pct=settings.RISK_MAX_DRAWDOWN_PCT,
        allow_short=settings.RISK_ALLOW_SHORT,
    )


@dataclass
class ExecutionContext:
    broker: Broker
    label: str  # Trade.broker / Position.broker of this account
    signals_account: str = "live"  # Signal.account of the signals this account trades
    control_pk: int = LIVE_CONTROL_PK
    publish: bool = True  # publish TradeEvents to trades:executed
    risk: RiskConfig = field(default_factory=risk_config_from_settings)
    # market time (a callable for the replay's closure): live, the market clock of the bot (the
    # replay's published time while one drives it, else the wall)
    clock: Callable[[], datetime] = field(default_factory=lambda: _market_now)
    # the machine's time, for operational ages against rows' own timestamps (``updated_at``)
    wall: Callable[[], datetime] = timezone.now


def _market_now() -> datetime:
    return market_clock().now()


def broker_default() -> Broker:
    """The configured broker. The simulated one keeps its state in Redis (survives restarts)."""
    kind = settings.BROKER_KIND
    if kind == "simulated":
        options: dict[str, Any] = {
            "store": RedisStore(redis_client(), key="simbroker:default"),
            "initial_cash": settings.SIM_INITIAL_CASH,
            "commission": commission_parse(settings.SIM_COMMISSION),
            "slippage": slippage_parse(settings.SIM_SLIPPAGE),
        }
        if settings.BROKER_FAULT_INJECTION:  # the fault suite: a flaky API behind the budget
            return ChaosSimulatedBroker(
                client=redis_client(),
                bucket=TokenBucket.per_minute(
                    redis_client(), "ratelimit:broker:simulated", settings.ALPACA_RATE_LIMIT_PER_MIN
                ),
                max_wait_s=settings.ALPACA_RATE_LIMIT_MAX_WAIT_S,
                **options,
            )
        return SimulatedBroker(**options)
    return make_broker(kind)


def context_live(broker: Broker | None = None) -> ExecutionContext:
    b = broker if broker is not None else broker_default()
    return ExecutionContext(broker=b, label=b.kind or settings.BROKER_KIND)
