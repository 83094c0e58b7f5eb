from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_utils import ReadOnlyAdmin
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl


@admin.register(TradingControl)
class TradingControlAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "pk",
        "label",
        "state",
        "reason",
        "peak_equity",
        "day_start_equity",
        "changed_at",
    )
    readonly_fields = ("state", "reason", "peak_equity", "day_start_equity", "day", "changed_at")
    actions = ["kill_switch", "resume", "reset_limits"]

    @admin.action(description="Kill switch: pause and cancel every open order (live account)")
    def kill_switch(self, request: HttpRequest, queryset: QuerySet[TradingControl]) -> None:
        from apps.execution.services import context_live, orders_sync, trading_pause  # noqa: PLC0415 - admin.py loads in every process; services on first use

        for control in queryset:
            ctx = context_live() if control.pk == 1 else None
            canceled = trading_pause(
                reason=f"kill switch (admin: {request.user})",
                broker=ctx.broker if ctx else None,
                pk=control.pk,
            )
            if ctx is not None:
                orders_sync(ctx)
            self.message_user(
                request, f"{control.label}: paused, {len(canceled)} order(s) canceled"
            )

    @admin.action(description="Resume (paused -> active)")
    def resume(self, request: HttpRequest, queryset: QuerySet[TradingControl]) -> None:
        from apps.execution.services import trading_resume  # noqa: PLC0415 - admin.py loads in every process; services on first use

        for control in queryset:
            trading_resume(pk=control.pk)
        self.message_user(request, "resumed; the next reconciliation re-places the stops")

    @admin.action(description="Reset the loss limits (halted -> active)")
    def reset_limits(self, request: HttpRequest, queryset: QuerySet[TradingControl]) -> None:
        from apps.execution.services import context_live, trading_reset  # noqa: PLC0415 - admin.py loads in every process; services on first use

        for control in queryset:
            equity = context_live().broker.account().equity if control.pk == 1 else None
            trading_reset(equity=equity, pk=control.pk)
        self.message_user(request, "limits reset")


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
