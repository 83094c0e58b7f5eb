"""The Django admin signs in with a passkey too: its login page runs django-otp-webauthn's session
ceremony (a discoverable passkey, user verification). There is no password form and no backend
accepts a password, so a passkey is the only way into an admin session."""

from __future__ import annotations

from django.contrib import admin


class PasskeyAdminSite(admin.AdminSite):
    login_template = "admin/passkey_login.html"


def install() -> None:
    """Turn the default admin site (every app registered on it) into the passkey admin site."""
    admin.site.__class__ = PasskeyAdminSite
