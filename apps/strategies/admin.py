from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.strategies.models import Signal, Strategy, StrategyWeightHistory


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "weight", "initial_weight", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "description")
    # Weights change only through the learning engine or `manage.py reset_weights`, which audit them.
    readonly_fields = ("weight", "initial_weight", "updated_at")


@admin.register(StrategyWeightHistory)
class StrategyWeightHistoryAdmin(ReadOnlyAdmin):
    list_display = ("strategy", "old_weight", "new_weight", "reason", "timestamp")
    list_filter = ("strategy",)
    search_fields = ("reason",)
    date_hierarchy = "timestamp"


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = (
        "ticker",
        "direction",
        "strength",
        "sentiment_score",
        "price",
        "acted_on",
        "decided_at",
    )
    list_filter = ("direction", "acted_on")
    search_fields = ("ticker",)
    date_hierarchy = "decided_at"
