"""Passkeys in the admin: django-otp-webauthn ships an admin class but leaves registering it to us
(its credential model is swappable)."""

from __future__ import annotations

from django.contrib import admin
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnUserHandle
from django_otp_webauthn.utils import get_attestation_model, get_credential_model

from apps.core.admin_utils import ReadOnlyAdmin

credential_model = get_credential_model()
if not admin.site.is_registered(credential_model):
    admin.site.register(credential_model, WebAuthnCredentialAdmin)


@admin.register(WebAuthnUserHandle)
class WebAuthnUserHandleAdmin(ReadOnlyAdmin):
    list_display = ("user", "handle_hex")
    search_fields = ("user__username", "handle_hex")


@admin.register(get_attestation_model())
class WebAuthnAttestationAdmin(ReadOnlyAdmin):
    list_display = ("credential", "fmt")
    list_filter = ("fmt",)
