from django.urls import path

from enhancer.api.cancel import CancelFaceEnhancingView
from enhancer.api.face_enhancing import (
    CheckApplicationAllProgressesView,
    CheckUserProgressView,
    DownloadView,
    StartFaceEnhancingView,
)
from enhancer.auth.token_views import GenerateJwtTokenView, RefreshJwtTokenView
from enhancer.notifications.urls import urlpatterns as notification_urlpatterns

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
    # The seed's four FaceEnhancing endpoints, capitalised as AdCreative's.
    path(
        "api/v1/Image/FaceEnhancing/AdCreative",
        StartFaceEnhancingView.as_view(),
        name="face-enhancing-start",
    ),
    path(
        "api/v1/Image/FaceEnhancing/CheckUserProgress",
        CheckUserProgressView.as_view(),
        name="face-enhancing-check-user-progress",
    ),
    path(
        "api/v1/Image/FaceEnhancing/CheckApplicationAllProgresses",
        CheckApplicationAllProgressesView.as_view(),
        name="face-enhancing-check-application-all-progresses",
    ),
    path(
        "api/v1/Image/FaceEnhancing/Download",
        DownloadView.as_view(),
        name="face-enhancing-download",
    ),
    # An extension beyond the seed (enhancer.api.cancel).
    path(
        "api/v1/Image/FaceEnhancing/CancelFaceEnhancing",
        CancelFaceEnhancingView.as_view(),
        name="face-enhancing-cancel",
    ),
]

# /api/v1/NotificationChannel (enhancer.notifications)
urlpatterns += notification_urlpatterns
