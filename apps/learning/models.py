"""Trade outcomes, learning adjustments, per-strategy metrics and portfolio snapshots."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.core.fields import money_field, weight_field
from apps.strategies.models import LIVE_ACCOUNT


def account_field() -> models.CharField[Any, Any]:
    """The owner of a learning row: ``live``, or a replay's own label (replays never touch live
    learning state)."""
    return models.CharField(max_length=40, default=LIVE_ACCOUNT, db_index=True)


class TradeOutcome(models.Model):
    trade = models.OneToOneField(
        "execution.Trade", on_delete=models.PROTECT, related_name="outcome", help_text="entry trade"
    )
    exit_trade = models.ForeignKey(
        "execution.Trade", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ticker = models.CharField(max_length=12)
    hold_duration = models.DurationField()
    realized_pnl = money_field()
    roi_pct = models.FloatField()
    was_profitable = models.BooleanField()
    attribution = models.JSONField(
        default=dict, blank=True, help_text="strategy -> share of credit"
    )
    closed_at = models.DateTimeField(db_index=True)
    account = account_field()

    class Meta:
        db_table = "trade_outcomes"
        ordering = ["-closed_at"]
        constraints = [
            # One exit closes one position: a redelivered close never writes a second outcome.
            models.UniqueConstraint(
                fields=["exit_trade"],
                condition=models.Q(exit_trade__isnull=False),
                name="uniq_outcome_exit_trade",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticker} {self.realized_pnl} ({self.roi_pct:+.2f}%)"


class LearningAdjustment(models.Model):
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.PROTECT, related_name="adjustments"
    )
    old_weight = weight_field()
    new_weight = weight_field()
    reason = models.CharField(max_length=300)
    reward_signal = models.FloatField()
    cycle = models.CharField(max_length=64, blank=True, help_text="update cycle id")
    timestamp = models.DateTimeField(db_index=True)
    account = account_field()

    class Meta:
        db_table = "learning_adjustments"
        ordering = ["-timestamp", "-id"]

    def __str__(self) -> str:
        return f"{self.strategy.name}: {self.old_weight} -> {self.new_weight}"


class StrategyMetric(models.Model):
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.PROTECT, related_name="metrics"
    )
    time = models.DateTimeField()
    trades = models.PositiveIntegerField()
    win_rate = models.FloatField()
    pnl = money_field()
    sharpe = models.FloatField(null=True, blank=True)
    weight = weight_field()

    class Meta:
        db_table = "strategy_metrics"
        ordering = ["-time"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "time"], name="uniq_strategy_metric_time")
        ]

    def __str__(self) -> str:
        return f"{self.strategy.name} @ {self.time:%Y-%m-%d %H:%M}"


class PortfolioSnapshot(models.Model):
    broker = models.CharField(max_length=20, default="simulated")
    time = models.DateTimeField()
    value = money_field()
    cash = money_field()
    exposure = money_field()
    daily_pnl = money_field()
    drawdown = models.FloatField(help_text="fraction below the running peak, >= 0")

    class Meta:
        db_table = "portfolio_snapshots"
        ordering = ["-time"]
        constraints = [
            models.UniqueConstraint(fields=["broker", "time"], name="uniq_snapshot_broker_time")
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.value}"


class LearningState(models.Model):
    """One per account: whether learning is frozen, and where the last cycle stopped."""

    frozen = models.BooleanField(
        default=False, help_text="frozen: outcomes are still recorded, weights are not changed"
    )
    reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(auto_now=True)
    last_outcome_id = models.BigIntegerField(
        default=0, help_text="newest trade outcome the last applied cycle had seen"
    )
    last_cycle_at = models.DateTimeField(null=True, blank=True)
    account = models.CharField(max_length=40, default=LIVE_ACCOUNT, unique=True)

    class Meta:
        db_table = "learning_state"
        verbose_name = "learning state"
        verbose_name_plural = "learning state"

    def __str__(self) -> str:
        return "learning frozen" if self.frozen else "learning active"


class LearningCycle(models.Model):
    """One entry of the audit log: a learning update or a manual reset, with everything a replay
    needs (the config, the active strategies); its per-strategy rows are the adjustments."""

    class Kind(models.TextChoices):
        UPDATE = "update"
        RESET = "reset"

    cycle = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    timestamp = models.DateTimeField(db_index=True)
    config = models.JSONField(default=dict, blank=True)
    universe = models.JSONField(default=list, blank=True, help_text="active strategies")
    outcomes_upto = models.BigIntegerField(default=0, help_text="newest trade outcome id seen")
    note = models.CharField(max_length=300, blank=True)
    account = account_field()

    class Meta:
        db_table = "learning_cycles"
        ordering = ["-timestamp", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.cycle} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"
