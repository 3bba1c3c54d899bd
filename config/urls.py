from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from config.health import healthz
from dashboard.views.webhooks import receive as receive_webhook
from operations.metrics import metrics

urlpatterns = [
    # First: Django tries the patterns in order, and every API client polls
    # CheckUserProgress; behind the dashboard's thirty patterns its resolution
    # was 5% of a one-process read. No dashboard or admin path starts with api/.
    path("", include("enhancer.urls")),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("webhooks/face-enhancer/<int:connection_id>", receive_webhook, name="dashboard-webhook"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html"),
        name="api-redoc",
    ),
    path("", include("dashboard.urls")),
]

# Errors under /api/ answer as RFC 7807 problem details, elsewhere as pages.
handler404 = "enhancer.api.error_handlers.handler404"
handler500 = "enhancer.api.error_handlers.handler500"
