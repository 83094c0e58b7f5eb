from django.contrib import admin
from django.urls import include, path, re_path

from tradebot.dashboard import ROUTES, dashboard
from tradebot.views import healthz, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    # The admin's passkey sign-in (django-otp-webauthn's session views; the API has its own).
    path("auth/webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("api/", include("apps.api.urls", namespace="api")),
    # The dashboard (frontend/dist): "/" and its client-side routes; keep this last.
    re_path(rf"^(?:(?:{'|'.join(ROUTES)})/?)?$", dashboard, name="dashboard"),
]

handler404 = "tradebot.views.not_found"
