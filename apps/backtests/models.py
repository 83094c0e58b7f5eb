"""Stored backtest runs, with their results, for comparison across runs."""

from __future__ import annotations

from django.db import models


class BacktestRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    name = models.CharField(max_length=200, blank=True)
    config = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0..1")
    data_hash = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    trades = models.JSONField(default=list, blank=True)
    equity_curve = models.JSONField(default=list, blank=True)
    weight_history = models.JSONField(default=list, blank=True)
    attribution = models.JSONField(default=dict, blank=True)
    chart_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "backtest_runs"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backtest #{self.pk} {self.name} [{self.status}]"
