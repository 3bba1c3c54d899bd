from django.urls import path

from enhancer.notifications import api

urlpatterns = [
    path(
        "api/v1/NotificationChannel",
        api.NotificationChannelsView.as_view(),
        name="notification-channels",
    ),
    path(
        "api/v1/NotificationChannel/Active",
        api.ActiveNotificationChannelsView.as_view(),
        name="notification-channels-active",
    ),
    path(
        "api/v1/NotificationChannel/<uuid:channel_id>",
        api.NotificationChannelView.as_view(),
        name="notification-channel",
    ),
    path(
        "api/v1/NotificationChannel/<uuid:channel_id>/RotateSecret",
        api.RotateSecretView.as_view(),
        name="notification-channel-rotate-secret",
    ),
    path(
        "api/v1/NotificationChannel/<uuid:channel_id>/Deliveries",
        api.DeliveriesView.as_view(),
        name="notification-channel-deliveries",
    ),
]
