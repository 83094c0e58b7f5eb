"""Orders/trades at the broker, positions, broker updates and the trading control switch."""

from __future__ import annotations

from django.db import models

from apps.core.fields import money_field, price_field, qty_field


class TradingControl(models.Model):
    """Singleton (pk=1): whether the bot may open positions."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        HALTED = "halted", "Halted (exits only)"
        PAUSED = "paused", "Paused (kill switch)"

    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(auto_now=True)
    # Which account this row controls: pk=1 is the live bot; the replay command uses its own row.
    label = models.CharField(max_length=30, default="live", blank=True)
    # Reference points of the loss limits (reset by `manage.py trading reset`).
    peak_equity = money_field(null=True, blank=True, help_text="high-water mark of equity")
    day_start_equity = money_field(null=True, blank=True, help_text="equity at the day's start")
    day = models.DateField(null=True, blank=True, help_text="trading day of day_start_equity")

    class Meta:
        db_table = "trading_control"

    def __str__(self) -> str:
        return f"trading {self.state}"


class Trade(models.Model):
    """One order and its fills. ``client_order_id`` is derived from the signal: never two orders."""

    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    class Status(models.TextChoices):
        NEW = "new", "New (not yet at broker)"
        ACCEPTED = "accepted"
        PARTIALLY_FILLED = "partially_filled"
        FILLED = "filled"
        CANCELED = "canceled"
        REJECTED = "rejected"
        EXPIRED = "expired"

    class OrderType(models.TextChoices):
        MARKET = "market"
        LIMIT = "limit"
        STOP = "stop"
        STOP_LIMIT = "stop_limit"
        TRAILING_STOP = "trailing_stop"

    class Purpose(models.TextChoices):
        ENTRY = "entry"
        EXIT = "exit"
        STOP_LOSS = "stop_loss"
        EXTERNAL = "external", "Adopted from broker"

    ticker = models.CharField(max_length=12, db_index=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    qty = qty_field()
    price = price_field(null=True, blank=True, help_text="average fill price")
    filled_qty = qty_field(default=0)
    order_type = models.CharField(
        max_length=14, choices=OrderType.choices, default=OrderType.MARKET
    )
    limit_price = price_field(null=True, blank=True)
    stop_price = price_field(null=True, blank=True)
    trail_percent = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.ENTRY)
    timestamp = models.DateTimeField(db_index=True, help_text="decision time")
    strategy = models.CharField(max_length=50, blank=True, help_text="dominant strategy")
    signal = models.ForeignKey(
        "strategies.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="trades"
    )
    status = models.CharField(max_length=17, choices=Status.choices, default=Status.NEW)
    pnl = money_field(null=True, blank=True, help_text="realised P&L of a closing order")
    commission = money_field(default=0)
    broker = models.CharField(max_length=20, default="simulated")
    broker_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    client_order_id = models.CharField(max_length=48, unique=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    reject_reason = models.TextField(blank=True)

    class Meta:
        db_table = "trades"
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["status", "broker"])]

    def __str__(self) -> str:
        return f"{self.side} {self.qty} {self.ticker} [{self.status}] {self.client_order_id}"


class TradeUpdate(models.Model):
    """Every broker update applied to a trade, in order: the order state machine's audit log."""

    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, related_name="updates")
    event = models.CharField(max_length=30)
    status = models.CharField(max_length=17)
    filled_qty = qty_field(default=0)
    price = price_field(null=True, blank=True)
    at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)

    class Meta:
        db_table = "trade_updates"
        ordering = ["trade", "at", "id"]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.event} {self.status}"


class Position(models.Model):
    broker = models.CharField(max_length=20, default="simulated")
    ticker = models.CharField(max_length=12)
    qty = qty_field(help_text="signed: negative is short")
    avg_entry = price_field()
    last_price = price_field(null=True, blank=True)
    unrealized_pnl = money_field(default=0)
    realized_pnl = money_field(default=0)
    stop_loss = price_field(null=True, blank=True)
    stop_order = models.ForeignKey(
        Trade, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entry_trade = models.ForeignKey(
        Trade, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "positions"
        ordering = ["ticker"]
        constraints = [
            models.UniqueConstraint(fields=["broker", "ticker"], name="uniq_position_broker_ticker")
        ]

    def __str__(self) -> str:
        return f"{self.ticker} {self.qty} @ {self.avg_entry}"
