from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.bus import jobs
from apps.core.admin_utils import ReadOnlyAdmin
from apps.news.models import Article, ArticleSentiment, NewsSource
from apps.news.services import source_reset_backoff


@admin.register(NewsSource)
class NewsSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    actions = ["poll_now", "reset_backoff"]

    @admin.action(description="Poll now (queue a poll on the news queue, even if disabled)")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[NewsSource]) -> None:
        for source in queryset:
            jobs.enqueue(jobs.NEWS_POLL_SOURCE, (source.pk,), {"force": True})
        self.message_user(
            request, f"Queued {queryset.count()} poll(s) on the news queue.", messages.SUCCESS
        )

    @admin.action(description="Reset backoff and error state")
    def reset_backoff(self, request: HttpRequest, queryset: QuerySet[NewsSource]) -> None:
        changed = source_reset_backoff(source_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Reset {changed} source(s).", messages.SUCCESS)

    list_display = (
        "name",
        "kind",
        "enabled",
        "poll_interval_s",
        "last_success_at",
        "consecutive_errors",
        "backoff_until",
        "last_error",
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
        "cursor",
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
