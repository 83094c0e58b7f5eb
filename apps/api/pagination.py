from __future__ import annotations

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Cursor pagination with a bounded page size (``?limit=`` up to 200)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering: str | tuple[str, ...] = "-id"


class ByTime(Cursor):
    ordering = ("-timestamp", "-id")


class ByMetricTime(Cursor):
    ordering = ("-time", "-id")


class ByFetched(Cursor):
    ordering = ("-fetched_at", "-id")


class ByCreated(Cursor):
    ordering = ("-created_at", "-id")
