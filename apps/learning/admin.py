from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_utils import ReadOnlyAdmin
from apps.learning.models import (
    LearningAdjustment,
    LearningCycle,
    LearningState,
    PortfolioSnapshot,
    StrategyMetric,
    TradeOutcome,
)


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


@admin.register(LearningCycle)
class LearningCycleAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "kind", "timestamp", "outcomes_upto", "note")
    list_filter = ("kind",)
    search_fields = ("cycle", "note")
    date_hierarchy = "timestamp"


@admin.register(LearningState)
class LearningStateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The freeze toggle: tick ``frozen`` (with a reason) or use the actions."""

    list_display = ("__str__", "frozen", "reason", "last_cycle_at", "changed_at")
    fields = ("frozen", "reason", "last_outcome_id", "last_cycle_at", "changed_at")
    readonly_fields = ("last_outcome_id", "last_cycle_at", "changed_at")
    actions = ("freeze", "unfreeze")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not LearningState.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LearningState, form: Any, change: bool) -> None:
        from apps.learning.services import learning_freeze  # noqa: PLC0415 - admin.py loads in every process; services on first use

        who = getattr(request.user, "username", "admin")
        learning_freeze(frozen=obj.frozen, reason=obj.reason or f"set in the admin by {who}")

    @admin.action(description="Freeze learning")
    def freeze(self, request: HttpRequest, queryset: QuerySet[LearningState]) -> None:
        from apps.learning.services import learning_freeze  # noqa: PLC0415 - admin.py loads in every process; services on first use

        learning_freeze(frozen=True, reason=f"frozen in the admin by {request.user}")
        self.message_user(request, "Learning frozen.", messages.WARNING)

    @admin.action(description="Unfreeze learning")
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[LearningState]) -> None:
        from apps.learning.services import learning_freeze  # noqa: PLC0415 - admin.py loads in every process; services on first use

        learning_freeze(frozen=False, reason=f"unfrozen in the admin by {request.user}")
        self.message_user(request, "Learning unfrozen.")
