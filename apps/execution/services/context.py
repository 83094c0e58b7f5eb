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

from apps.execution.brokers.base import Broker
from apps.execution.risk import RiskConfig

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
    from apps.market.clock import market_clock

    return market_clock().now()


def broker_default() -> Broker:
    """The configured broker. The simulated one keeps its state in Redis (survives restarts)."""
    kind = settings.BROKER_KIND
    if kind == "simulated":
        from apps.core.redis_client import redis_client
        from apps.execution.brokers.simulated import RedisStore, SimulatedBroker
        from apps.execution.costs import commission_parse, slippage_parse

        options: dict[str, Any] = {
            "store": RedisStore(redis_client(), key="simbroker:default"),
            "initial_cash": settings.SIM_INITIAL_CASH,
            "commission": commission_parse(settings.SIM_COMMISSION),
            "slippage": slippage_parse(settings.SIM_SLIPPAGE),
        }
        if settings.BROKER_FAULT_INJECTION:  # the fault suite: a flaky API behind the budget
            from apps.execution.brokers.chaos import ChaosSimulatedBroker
            from apps.execution.ratelimit import TokenBucket

            return ChaosSimulatedBroker(
                client=redis_client(),
                bucket=TokenBucket.per_minute(
                    redis_client(), "ratelimit:broker:simulated", settings.ALPACA_RATE_LIMIT_PER_MIN
                ),
                max_wait_s=settings.ALPACA_RATE_LIMIT_MAX_WAIT_S,
                **options,
            )
        return SimulatedBroker(**options)
    from apps.execution.brokers.registry import make_broker

    return make_broker(kind)


def context_live(broker: Broker | None = None) -> ExecutionContext:
    b = broker if broker is not None else broker_default()
    return ExecutionContext(broker=b, label=b.kind or settings.BROKER_KIND)


def market_tick(*, ctx: ExecutionContext, symbols: list[str], at: datetime) -> int:
    """Show the simulated broker each symbol's newest stored bar at ``at``, then sync orders.

    This is how the simulated broker "sees the market" in the live pipeline (the replay or new
    stored bars). It ignores a bar it has applied already. Other brokers have their own market.
    """
    from apps.execution.brokers.simulated import SimulatedBroker
    from apps.execution.services.orders import orders_sync
    from apps.market.models import MarketBar

    broker = ctx.broker
    if not isinstance(broker, SimulatedBroker):
        return 0
    for symbol in symbols:
        bar = (
            MarketBar.objects.filter(
                symbol=symbol, timeframe=settings.SIGNALS_TIMEFRAME, time__lte=at
            )
            .order_by("-time")
            .first()
        )
        if bar is not None:
            broker.on_bar(
                symbol,
                time=bar.time,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume,
            )
    return orders_sync(ctx)
