"""Strategies with their ensemble weights, the weight history, and the signals they produce."""

from __future__ import annotations

from django.db import models

from apps.core.fields import price_field, weight_field

LIVE_ACCOUNT = "live"  # the owner of live rows; a replay labels its own


class Strategy(models.Model):
    name = models.CharField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    weight = weight_field(
        help_text="current ensemble weight; weights of active strategies sum to 1"
    )
    initial_weight = weight_field(help_text="weight the audit log replays from")
    active = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True, help_text="the strategy's frozen config")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "strategies"
        ordering = ["name"]
        verbose_name_plural = "strategies"

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class StrategyWeightHistory(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="weight_history")
    old_weight = weight_field()
    new_weight = weight_field()
    reason = models.CharField(max_length=200, blank=True)
    timestamp = models.DateTimeField(db_index=True)
    # the owner: ``live`` moves ``Strategy.weight``; a replay's weights live only in its history
    account = models.CharField(max_length=40, default=LIVE_ACCOUNT, db_index=True)

    class Meta:
        db_table = "strategy_weights_history"
        ordering = ["-timestamp", "-id"]
        verbose_name_plural = "strategy weight history"

    def __str__(self) -> str:
        return f"{self.strategy.name}: {self.old_weight} -> {self.new_weight}"


class Signal(models.Model):
    class Direction(models.TextChoices):
        LONG = "long"
        SHORT = "short"
        FLAT = "flat"

    account = models.CharField(
        max_length=20,
        default=LIVE_ACCOUNT,
        help_text="the account or run the signal belongs to: 'live', or a replay's label",
    )
    ticker = models.CharField(max_length=12)
    direction = models.CharField(max_length=5, choices=Direction.choices)
    strength = models.FloatField(help_text="in [0, 1]")
    strategy_sources = models.JSONField(
        default=list, help_text="per-strategy contributions: [{strategy, score, weight}]"
    )
    sentiment_score = models.FloatField(null=True, blank=True)
    price = price_field(null=True, blank=True)
    decided_at = models.DateTimeField(help_text="decision time (bar time), UTC")
    acted_on = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "signals"
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "ticker", "decided_at"], name="uniq_signal_account_ticker_time"
            )
        ]
        indexes = [models.Index(fields=["account", "ticker", "-decided_at"])]

    def __str__(self) -> str:
        return (
            f"{self.ticker} {self.direction} {self.strength:.2f} @ {self.decided_at:%Y-%m-%d %H:%M}"
        )
