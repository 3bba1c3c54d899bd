from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class OperationsConfig(AppConfig):
    """What operators need around the product: metrics and data retention."""

    name = "operations"

    def ready(self) -> None:
        # The folders every process may write to (the SQLite database, the
        # local media storage, collectstatic, uploads streamed to disk); made
        # when Django starts rather than when the settings are imported.
        for folder in (settings.VAR_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT):
            Path(folder).mkdir(parents=True, exist_ok=True)
        Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
