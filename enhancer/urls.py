from django.urls import path

from enhancer.api.authorization import GenerateJwtTokenView, RefreshJwtTokenView

urlpatterns = [
    path(
        "api/v1/Authorization/GenerateJwtToken",
        GenerateJwtTokenView.as_view(),
        name="generate-jwt-token",
    ),
    path(
        "api/v1/Authorization/RefreshJwtToken",
        RefreshJwtTokenView.as_view(),
        name="refresh-jwt-token",
    ),
]
