from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.learning.models import LearningAdjustment, PortfolioSnapshot, StrategyMetric, TradeOutcome


@admin.register(TradeOutcome)
class TradeOutcomeAdmin(ReadOnlyAdmin):
    list_display = (
        "ticker",
        "trade",
        "hold_duration",
        "realized_pnl",
        "roi_pct",
        "was_profitable",
        "closed_at",
    )
    list_filter = ("was_profitable",)
    search_fields = ("ticker",)
    date_hierarchy = "closed_at"


@admin.register(LearningAdjustment)
class LearningAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("strategy", "old_weight", "new_weight", "reward_signal", "reason", "timestamp")
    list_filter = ("strategy",)
    search_fields = ("reason", "cycle")
    date_hierarchy = "timestamp"


@admin.register(StrategyMetric)
class StrategyMetricAdmin(ReadOnlyAdmin):
    list_display = ("strategy", "time", "trades", "win_rate", "pnl", "sharpe", "weight")
    list_filter = ("strategy",)
    date_hierarchy = "time"


@admin.register(PortfolioSnapshot)
class PortfolioSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("time", "broker", "value", "cash", "exposure", "daily_pnl", "drawdown")
    list_filter = ("broker",)
    date_hierarchy = "time"
