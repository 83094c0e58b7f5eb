"""What the API keeps: one-time registration links, refresh-token families, idempotent overrides."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RegistrationLink(models.Model):
    """A one-time sign-up link (``manage.py passkey_link``): its token is stored hashed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_registration_links"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"registration link for {self.user} (expires {self.expires_at:%H:%M:%S})"


class TokenFamily(models.Model):
    """The refresh tokens of one sign-in, rotated one into the next. A reused (already rotated)
    refresh token revokes the whole family; so does signing out."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotations = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "api_token_families"
        ordering = ["-created_at"]
        verbose_name_plural = "token families"

    def __str__(self) -> str:
        state = f"revoked ({self.revoked_reason})" if self.revoked_at else "active"
        return f"{self.user} {self.id} {state}"


class IdempotentRequest(models.Model):
    """One override request per (user, Idempotency-Key): the same key again replays the stored
    answer and never repeats the effect (no second order, no second cancel)."""

    class State(models.TextChoices):
        STARTED = "started"
        DONE = "done"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotent_requests"
    )
    key = models.CharField(max_length=100)
    action = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of action + request body")
    state = models.CharField(max_length=8, choices=State.choices, default=State.STARTED)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_idempotent_requests"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.key} [{self.state}]"
