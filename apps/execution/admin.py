from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl


@admin.register(TradingControl)
class TradingControlAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("state", "reason", "changed_at")


class TradeUpdateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TradeUpdate
    extra = 0
    can_delete = False
    readonly_fields = ("event", "status", "filled_qty", "price", "at", "payload", "dedupe_key")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = (
        "timestamp",
        "ticker",
        "side",
        "qty",
        "filled_qty",
        "price",
        "status",
        "purpose",
        "strategy",
        "pnl",
        "broker",
        "client_order_id",
    )
    list_filter = ("status", "side", "purpose", "broker", "strategy")
    search_fields = ("ticker", "client_order_id", "broker_order_id")
    date_hierarchy = "timestamp"
    inlines = [TradeUpdateInline]


@admin.register(TradeUpdate)
class TradeUpdateAdmin(ReadOnlyAdmin):
    list_display = ("trade", "event", "status", "filled_qty", "price", "at")
    list_filter = ("event", "status")
    search_fields = ("trade__client_order_id",)


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "ticker",
        "broker",
        "qty",
        "avg_entry",
        "last_price",
        "unrealized_pnl",
        "realized_pnl",
        "stop_loss",
        "opened_at",
    )
    list_filter = ("broker",)
    search_fields = ("ticker",)
    readonly_fields = (
        "qty",
        "avg_entry",
        "last_price",
        "unrealized_pnl",
        "realized_pnl",
        "entry_trade",
        "stop_order",
        "opened_at",
    )
