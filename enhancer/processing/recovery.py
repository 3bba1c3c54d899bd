"""Recovery sweeps: send again the processes whose message or worker was lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.processing import claims
from enhancer.processing.start import process_enqueue

logger = logging.getLogger(__name__)


def process_recover_all(*, queued_before: datetime | None = None) -> int:
    """Re-send every process a dead worker may have lost; the number re-sent.

    Run when a worker starts, and periodically (see process_sweep_stale).
    Messages reserved by a worker that was killed (all of them with the
    embedded broker; with Redis until the visibility timeout) would otherwise
    leave their processes waiting. A process whose message is still queued gets
    a second one; the claim makes it a no-op. With `queued_before`, Queued
    processes are re-sent only if untouched since then.
    """
    candidates = FaceEnhancerProcess.objects.filter(
        status__in=[ProcessStatus.QUEUED, ProcessStatus.PROCESSING]
    ).only("id", "status", "worker", "heartbeat_at", "started_at", "updated_at")
    count = 0
    for process in candidates.iterator():
        if process.status == ProcessStatus.QUEUED:
            lost = queued_before is None or process.updated_at < queued_before
        else:
            lost = claims.holder_is_dead(process.worker) or claims.heartbeat_is_stale(process)
        if lost:
            process_enqueue(process_id=process.id)
            count += 1
    if count:
        logger.warning("re-sent %s face enhancing process(es) that looked lost", count)
    return count


def process_sweep_stale() -> int:
    """The periodic safety net: a Queued process whose message was lost (a
    broker restart, a failed publish) is sent again after
    FACE_ENHANCING_REQUEUE_AFTER seconds; a Processing one whose worker died
    is taken over. Nothing waits silently for a worker restart."""
    return process_recover_all(
        queued_before=timezone.now() - timedelta(seconds=settings.FACE_ENHANCING_REQUEUE_AFTER)
    )
