"""The API's records in the admin: sign-up links, sign-in sessions (revocable), override log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.api.auth.tokens import family_revoke
from apps.api.models import IdempotentRequest, RegistrationLink, TokenFamily
from apps.core.admin_utils import ReadOnlyAdmin


@admin.register(RegistrationLink)
class RegistrationLinkAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    search_fields = ("user__username",)
    exclude = ("token_hash",)


@admin.register(TokenFamily)
class TokenFamilyAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "id",
        "created_at",
        "rotations",
        "rotated_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason",)
    search_fields = ("user__username", "id")
    actions = ["revoke"]

    @admin.action(description="Revoke (sign out everywhere for these sign-ins)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TokenFamily]) -> None:
        n = sum(family_revoke(family=f.pk, reason="admin") for f in queryset)
        self.message_user(request, f"{n} sign-in(s) revoked", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return admin.ModelAdmin.get_actions(self, request)


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdmin):
    list_display = ("action", "user", "key", "state", "status_code", "created_at")
    list_filter = ("action", "state")
    search_fields = ("key", "user__username")
