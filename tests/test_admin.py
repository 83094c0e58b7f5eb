"""Every model has an admin page, and its list and add/change pages render for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

OUR_APPS = {
    "core",
    "accounts",
    "news",
    "market",
    "strategies",
    "execution",
    "learning",
    "backtests",
    "api",
}


def our_models() -> list[type]:
    extra = {"django_otp_webauthn"}  # passkeys: users manage them; admins see them
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS | extra]


def test_every_model_is_in_the_admin() -> None:
    missing = [m.__name__ for m in our_models() if not admin.site.is_registered(m)]
    assert missing == []
    # Beat schedules and passkeys are editable in the admin too.
    labels = {m._meta.app_label for m in admin.site._registry}
    assert {"django_celery_beat", "django_otp_webauthn"} <= labels


@pytest.mark.django_db
@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_admin_changelist_renders(model: type, client: Client) -> None:
    user = get_user_model().objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = client.get(url)
    assert response.status_code == 200, url
    assert opts.verbose_name_plural.lower() in response.content.decode().lower()


@pytest.mark.django_db
def test_history_is_read_only_in_the_admin(client: Client) -> None:
    from apps.execution.models import Trade
    from apps.learning.models import LearningAdjustment
    from apps.strategies.models import StrategyWeightHistory

    user = get_user_model().objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)
    for model in (Trade, LearningAdjustment, StrategyWeightHistory):
        opts = model._meta
        assert (
            client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
        )
