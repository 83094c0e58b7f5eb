from django.contrib import admin

from apps.core.admin_utils import ReadOnlyAdmin
from apps.core.models import BusPing, OutboxMessage, ProcessedMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "stream", "event_id", "created_at")
    list_filter = ("stream",)
    search_fields = ("event_id",)


@admin.register(ProcessedMessage)
class ProcessedMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "group", "stream", "event_id", "message_id", "processed_at")
    list_filter = ("group", "stream")
    search_fields = ("event_id", "message_id")
    date_hierarchy = "processed_at"


@admin.register(BusPing)
class BusPingAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "stage", "sent_at", "committed_at", "note")
    list_filter = ("stage",)
    search_fields = ("event_id",)
