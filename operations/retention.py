"""Deleting old data: uploads, results and their records after N days.

Only finished work is deleted (Completed or Failed processes, finished or
cancelled jobs): a job still running is never pulled from under a worker.
Rows go first, in a transaction; their files are deleted once it commits, so
a failure can leave a stray file behind but never a row pointing at nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from dashboard.models import Job
from enhancer.models import FINISHED_STATUSES, FaceEnhancerProcess
from enhancer.notifications.models import WebhookDelivery
from enhancer.processing.stop import process_delete

logger = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class PurgeReport:
    processes: int
    jobs: int
    deliveries: int


def purge_older_than(*, days: int, now: datetime | None = None) -> PurgeReport:
    cutoff = (now or timezone.now()) - timedelta(days=days)
    report = PurgeReport(
        processes=_purge_processes(cutoff),
        jobs=_purge_jobs(cutoff),
        deliveries=WebhookDelivery.objects.filter(created_at__lt=cutoff).delete()[0],
    )
    if any(report.__dict__.values()):
        logger.info("Retention (%s days) deleted %s", days, report)
    return report


def _purge_processes(cutoff: datetime) -> int:
    old = FaceEnhancerProcess.objects.filter(
        created_at__lt=cutoff, status__in=FINISHED_STATUSES
    ).prefetch_related("render_tasks")
    deleted = 0
    while batch := list(old[:BATCH]):
        for process in batch:
            process_delete(process=process)
        deleted += len(batch)
    return deleted


def _purge_jobs(cutoff: datetime) -> int:
    old = Job.objects.filter(created_at__lt=cutoff).exclude(status__in=Job.ACTIVE)
    deleted = 0
    while batch := list(old.only("pk", "original", "result", "preview")[:BATCH]):
        names = [f.name for job in batch for f in (job.original, job.result, job.preview) if f.name]
        with transaction.atomic():
            Job.objects.filter(pk__in=[job.pk for job in batch]).delete()
            transaction.on_commit(partial(_delete_files, names))
        deleted += len(batch)
    return deleted


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
