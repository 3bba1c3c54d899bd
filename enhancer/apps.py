from django.apps import AppConfig


class EnhancerConfig(AppConfig):
    name = "enhancer"
    verbose_name = "Face Enhancer API"
