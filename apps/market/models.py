"""OHLCV bars (``market_data``): a hypertable where TimescaleDB exists."""

from __future__ import annotations

from django.db import models

from apps.core.fields import price_field, qty_field


class MarketBar(models.Model):
    symbol = models.CharField(max_length=12)
    timeframe = models.CharField(max_length=8, help_text="e.g. 1Min, 5Min, 1Hour, 1Day")
    time = models.DateTimeField(help_text="bar open time, UTC")
    open = price_field()
    high = price_field()
    low = price_field()
    close = price_field()
    volume = qty_field(default=0)
    vwap = price_field(null=True, blank=True)
    trade_count = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=40, default="", blank=True)

    class Meta:
        db_table = "market_data"
        ordering = ["symbol", "timeframe", "time"]
        constraints = [
            models.UniqueConstraint(fields=["symbol", "timeframe", "time"], name="uniq_bar")
        ]
        indexes = [
            models.Index(fields=["symbol", "timeframe", "-time"], name="bar_sym_tf_time_desc")
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.timeframe} {self.time:%Y-%m-%d %H:%M} {self.close}"
