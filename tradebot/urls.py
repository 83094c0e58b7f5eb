from django.contrib import admin
from django.urls import include, path

from tradebot.views import healthz, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
]
