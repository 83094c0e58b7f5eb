from django.contrib import admin

from apps.backtests.models import BacktestRun


@admin.register(BacktestRun)
class BacktestRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "name", "status", "progress", "data_hash", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("name", "data_hash")
    readonly_fields = (
        "status",
        "progress",
        "data_hash",
        "metrics",
        "trades",
        "equity_curve",
        "weight_history",
        "attribution",
        "chart_path",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    )
