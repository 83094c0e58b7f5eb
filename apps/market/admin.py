from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.market.models import MarketBar


@admin.register(MarketBar)
class MarketBarAdmin(ReadOnlyAdmin):
    list_display = (
        "symbol",
        "timeframe",
        "time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "source",
    )
    list_filter = ("timeframe", "symbol", "source")
    search_fields = ("symbol",)
    date_hierarchy = "time"
    show_full_result_count = False
