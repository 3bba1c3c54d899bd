from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators need around the product: metrics and data retention."""

    name = "operations"
