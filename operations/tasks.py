from __future__ import annotations

from celery import shared_task
from django.conf import settings

from operations.broker import broker_check
from operations.retention import purge_older_than
from operations.temp_uploads import temp_uploads_purge


@shared_task(name="operations.retention_purge")
def retention_purge_task() -> dict[str, int]:
    """Delete finished work older than RETENTION_DAYS (0 keeps everything)."""
    if settings.RETENTION_DAYS <= 0:
        return {}
    return purge_older_than(days=settings.RETENTION_DAYS).__dict__


@shared_task(name="operations.temp_uploads_purge")
def temp_uploads_purge_task() -> int:
    """Delete temporary upload files left by web workers that died mid-upload."""
    return temp_uploads_purge()


@shared_task(name="operations.broker_check", ignore_result=True)
def broker_check_task() -> None:
    """Send lost work again at once after the broker restarted or lost its data."""
    broker_check()
