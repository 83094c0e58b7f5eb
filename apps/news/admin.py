from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.news.models import Article, ArticleSentiment, NewsSource


@admin.register(NewsSource)
class NewsSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "kind",
        "enabled",
        "poll_interval_s",
        "last_success_at",
        "consecutive_errors",
        "backoff_until",
    )
    list_filter = ("kind", "enabled")
    list_editable = ("enabled", "poll_interval_s")
    search_fields = ("name", "url", "subreddit", "account")
    readonly_fields = (
        "etag",
        "last_modified",
        "last_polled_at",
        "last_success_at",
        "consecutive_errors",
        "backoff_until",
        "last_error",
    )


class SentimentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ArticleSentiment
    extra = 0
    can_delete = False
    readonly_fields = ("ticker", "score", "confidence", "model_used", "tier", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "source", "tickers", "published_at", "fetched_at")
    list_filter = ("source", "source__kind")
    search_fields = ("title", "url", "content_hash")
    date_hierarchy = "fetched_at"
    readonly_fields = ("content_hash", "fetched_at")
    inlines = [SentimentInline]


@admin.register(ArticleSentiment)
class ArticleSentimentAdmin(ReadOnlyAdmin):
    list_display = ("article", "ticker", "score", "confidence", "model_used", "tier", "created_at")
    list_filter = ("model_used", "tier")
    search_fields = ("ticker", "article__title")
    date_hierarchy = "created_at"
