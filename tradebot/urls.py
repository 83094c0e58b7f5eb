from django.contrib import admin
from django.urls import include, path, re_path

from tradebot.dashboard import ROUTES, dashboard
from tradebot.views import healthz, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    # The dashboard (frontend/dist): "/" and its client-side routes; keep this last.
    re_path(rf"^(?:(?:{'|'.join(ROUTES)})/?)?$", dashboard, name="dashboard"),
]
