from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "enhancer.notifications"
    label = "notifications"
    verbose_name = "Notification channels and webhooks"
