"""Applying a verified webhook notification of the API to the job it is about.

A completion starts the download at once, a failure (or a cancel by another
client of the application) sends a poll to read the process's own state, and
progress moves the bar forward only. Each is a conditional UPDATE, so a
webhook racing a poll moves the job once.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dashboard import enqueue
from dashboard.api_answers import uuid_or_none
from dashboard.job_steps import job_mark_completed_upstream
from dashboard.models import Job

PROGRESS = "ImageFaceEnhancingProgress"
COMPLETED = "ImageFaceEnhancingTaskCompleted"


def job_apply_notification(*, job: Job, payload: dict[str, object]) -> None:
    message_type = payload.get("MessageType")
    if message_type == COMPLETED:
        if payload.get("IsSuccessful") is False:
            # Failed and Cancelled (CancelFaceEnhancing, by us or another client of the
            # application) send the same message: the process's own state tells them apart.
            transaction.on_commit(lambda: enqueue.job_poll(str(job.pk)))
        elif (
            job.process_id is not None
            and job_mark_completed_upstream(
                process_id=job.process_id, task_id=uuid_or_none(payload.get("TaskId"))
            )
            is not None
        ):
            transaction.on_commit(lambda: enqueue.job_download(str(job.pk)))
    elif message_type == PROGRESS:
        try:
            progress = max(0, min(100, int(float(str(payload.get("Progress") or 0)))))
        except (ValueError, OverflowError):  # not a number, NaN or infinite
            return
        # Only forward: a late message must not move the bar back.
        Job.objects.filter(
            pk=job.pk,
            status__in=[Job.Status.SUBMITTED, Job.Status.PROCESSING],
            progress__lt=progress,
        ).update(status=Job.Status.PROCESSING, progress=progress, updated_at=timezone.now())
