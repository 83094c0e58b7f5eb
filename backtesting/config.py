"""The frozen configuration of one backtest, JSON round-trippable (stored on ``BacktestRun``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from apps.execution.costs import (
    CommissionModel,
    NoCommission,
    NoSlippage,
    SlippageModel,
    commission_from_dict,
    slippage_from_dict,
)


class SizingKind(StrEnum):
    CASH_FRACTION = "cash_fraction"  # floor(cash·f / (price·(1+fee rate))): f=1 is "all in"
    EQUITY_FRACTION = "equity_fraction"  # target value equity·f, capped by cash
    FIXED_SHARES = "fixed_shares"  # always ``value`` shares
    RISK = "risk"  # the live risk manager's sizing (apps.execution.risk)


class ExitRule(StrEnum):
    OPPOSITE = "opposite"  # close a long on a SHORT decision (and a short on LONG)
    FLAT = "flat"  # close as soon as the ensemble is no longer in the position's direction


@dataclass(frozen=True)
class StrategySpec:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class BacktestConfig:
    """Everything that decides a backtest's result besides the data (whose hash is reported)."""

    symbols: tuple[str, ...]
    strategies: tuple[StrategySpec, ...]
    initial_weights: Mapping[str, float] = field(default_factory=dict)  # empty: equal weights
    start: datetime | None = None
    end: datetime | None = None
    timeframe: str = "1Day"
    initial_capital: float = 100_000.0
    commission: CommissionModel = field(default_factory=NoCommission)
    slippage: SlippageModel = field(default_factory=NoSlippage)
    learning: bool = False
    learning_params: Mapping[str, Any] = field(default_factory=dict)
    long_threshold: float = 0.15
    short_threshold: float = 0.15
    min_coverage: float = 0.3
    allow_short: bool = False
    exit_rule: ExitRule = ExitRule.OPPOSITE
    sizing: SizingKind = SizingKind.RISK
    sizing_value: float = 0.1  # the fraction or the share count (ignored by RISK)
    risk_params: Mapping[str, Any] = field(default_factory=dict)  # RiskConfig fields for RISK
    whole_shares: bool = True
    stop_loss_pct: float | None = None  # e.g. 0.05: a stop 5% from the entry fill
    news_latency_s: float = 60.0  # an article counts from published_at + this
    # book fill prices and fees to this many decimals as the simulated broker does
    # (:data:`apps.execution.ledger.BOOKING_DECIMALS`); None: exact floats (the parity studies)
    booking_decimals: int | None = None
    name: str = ""

    def weights(self) -> dict[str, float]:
        """Initial weights for every configured strategy (equal when none given), summing to 1."""
        names = [s.name for s in self.strategies]
        raw = {n: float(self.initial_weights.get(n, 0.0)) for n in names}
        if not self.initial_weights or sum(raw.values()) <= 0:
            raw = dict.fromkeys(names, 1.0)
        total = sum(raw.values())
        return {n: raw[n] / total for n in names}

    def with_(self, **changes: Any) -> BacktestConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "symbols": list(self.symbols),
            "strategies": [s.to_dict() for s in self.strategies],
            "initial_weights": dict(self.initial_weights),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "timeframe": self.timeframe,
            "initial_capital": self.initial_capital,
            "commission": self.commission.to_dict(),
            "slippage": self.slippage.to_dict(),
            "learning": self.learning,
            "learning_params": dict(self.learning_params),
            "long_threshold": self.long_threshold,
            "short_threshold": self.short_threshold,
            "min_coverage": self.min_coverage,
            "allow_short": self.allow_short,
            "exit_rule": self.exit_rule.value,
            "sizing": self.sizing.value,
            "sizing_value": self.sizing_value,
            "risk_params": dict(self.risk_params),
            "whole_shares": self.whole_shares,
            "stop_loss_pct": self.stop_loss_pct,
            "news_latency_s": self.news_latency_s,
            "booking_decimals": self.booking_decimals,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> BacktestConfig:
        d = dict(data)
        return BacktestConfig(
            name=str(d.get("name", "")),
            symbols=tuple(d["symbols"]),
            strategies=tuple(
                StrategySpec(name=s["name"], params=dict(s.get("params") or {}))
                for s in d["strategies"]
            ),
            initial_weights={k: float(v) for k, v in (d.get("initial_weights") or {}).items()},
            start=datetime.fromisoformat(d["start"]) if d.get("start") else None,
            end=datetime.fromisoformat(d["end"]) if d.get("end") else None,
            timeframe=str(d.get("timeframe", "1Day")),
            initial_capital=float(d.get("initial_capital", 100_000.0)),
            commission=commission_from_dict(d.get("commission") or {"kind": "none"}),
            slippage=slippage_from_dict(d.get("slippage") or {"kind": "none"}),
            learning=bool(d.get("learning", False)),
            learning_params=dict(d.get("learning_params") or {}),
            long_threshold=float(d.get("long_threshold", 0.15)),
            short_threshold=float(d.get("short_threshold", 0.15)),
            min_coverage=float(d.get("min_coverage", 0.3)),
            allow_short=bool(d.get("allow_short", False)),
            exit_rule=ExitRule(d.get("exit_rule", ExitRule.OPPOSITE.value)),
            sizing=SizingKind(d.get("sizing", SizingKind.RISK.value)),
            risk_params=dict(d.get("risk_params") or {}),
            sizing_value=float(d.get("sizing_value", 0.1)),
            whole_shares=bool(d.get("whole_shares", True)),
            stop_loss_pct=(
                float(d["stop_loss_pct"]) if d.get("stop_loss_pct") is not None else None
            ),
            news_latency_s=float(d.get("news_latency_s", 60.0)),
            booking_decimals=(
                int(d["booking_decimals"]) if d.get("booking_decimals") is not None else None
            ),
        )


def periods_per_year(timeframe: str) -> float:
    """Bars per trading year for annualising Sharpe/Sortino (US equities: 252 days × 6.5 h)."""
    tf = timeframe.strip()
    units = {"Min": 390.0, "Hour": 6.5, "Day": 1.0, "Week": 1 / 5, "Month": 1 / 21}
    for suffix, per_day in units.items():
        if tf.endswith(suffix):
            k = float(tf[: -len(suffix)] or 1)
            return 252.0 * per_day / k
    return 252.0
