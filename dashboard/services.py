"""Writes of the dashboard: jobs created, retried, failed, waiting for the queue, swept.

Each write moves a job from one status to the next with a conditional UPDATE
(`filter(id=..., status=expected).update(...)`), so that two racing writers
move it once. The steps that talk to the API (submit, poll, download) are in
job_steps.py; tasks are enqueued through enqueue.py once the row is committed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename

from dashboard import enqueue
from dashboard.models import EarlierProcess, Job, Membership

logger = logging.getLogger(__name__)

# --- Creating ------------------------------------------------------------------


@transaction.atomic
def job_create(
    *,
    membership: Membership,
    image: IO[bytes],
    filename: str,
    aria_ratio: float,
    max_face_count: int,
    batch: uuid.UUID | None = None,
) -> Job:
    """Store a validated upload and send it to the API once the row is committed."""
    job = Job(
        batch=batch,
        team=membership.team,
        uploader=membership.user,
        user_guid=membership.user_guid,
        original_name=filename[:255],
        aria_ratio=aria_ratio,
        max_face_count=max_face_count,
    )
    job.original.save(storage_name(filename), File(image), save=False)
    try:
        job.save()
    except Exception:
        job.original.delete(save=False)  # a refused row leaves no file behind
        raise
    transaction.on_commit(lambda: _send_to_submit(job))
    return job


@transaction.atomic
def job_retry(*, job: Job) -> bool:
    """Start a failed or cancelled job again, as a new upstream process."""
    earlier = (
        Job.objects.select_for_update()
        .filter(pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED])
        .values_list("process_id", flat=True)
        .first()
    )
    if earlier is not None:
        # The API keeps the old process: the Team page still shows it as this job's.
        EarlierProcess.objects.create(job_id=job.pk, process_id=earlier)
    updated = Job.objects.filter(
        pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED]
    ).update(
        status=Job.Status.PENDING,
        progress=0,
        error_message="",
        attempts=0,
        process_id=None,
        task_id=None,
        idempotency_key=f"{job.pk.hex}-{uuid.uuid4().hex[:8]}",
        submitted_at=None,
        completed_at=None,
        updated_at=timezone.now(),
    )
    if updated:
        transaction.on_commit(lambda: _send_to_submit(job))
    return bool(updated)


def _send_to_submit(job: Job) -> None:
    """Enqueue the job's submission; with the broker down, leave it waiting for the sweeper.

    The row is committed already, so the job is not lost: it shows as waiting
    for the queue and jobs_sweep sends it once the broker is back (a person
    uploading should not see an error page for a file that was kept).
    """
    try:
        enqueue.job_submit(str(job.pk))
    except Exception as e:
        logger.warning("job %s: its submission could not be queued (%s)", job.pk, e)
        if job_wait(job_id=job.pk, reason=OUR_QUEUE_DOWN):
            job.status = Job.Status.WAITING
            job.error_message = OUR_QUEUE_DOWN


# --- The worker's steps, and a job waiting for the queue ---------------------------------


def job_fail(*, job_id: uuid.UUID | str, message: str) -> bool:
    return bool(
        Job.objects.filter(pk=job_id, status__in=Job.ACTIVE).update(
            status=Job.Status.FAILED,
            error_message=message[:2000],
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )


# What a person reads while a job waits: why, and that nothing is needed of them.
OUR_QUEUE_DOWN = (
    "The dashboard's queue is unavailable for now; the image is kept and sent once it is back."
)
API_QUEUE_DOWN = (
    "The Face Enhancer API's queue is unavailable for now; the image is sent again automatically."
)
API_UNREACHABLE = (
    "The Face Enhancer API can't be reached right now; the image is sent again automatically."
)


def job_wait(*, job_id: uuid.UUID | str, reason: str) -> bool:
    """Show an unsent job as waiting for the queue. False when it should not be tried again.

    A job that has waited past DASHBOARD_JOB_TIMEOUT fails instead (with the
    reason), so that an outage ends in a clear state rather than an endless wait.
    """
    now = timezone.now()
    unsent = Job.objects.filter(pk=job_id, status__in=Job.UNSENT)
    too_old = now - timedelta(seconds=settings.DASHBOARD_JOB_TIMEOUT)
    if unsent.filter(created_at__lt=too_old).exists():
        job_fail(job_id=job_id, message=f"Gave up on this image: {reason} Retry it?")
        return False
    return bool(
        unsent.update(status=Job.Status.WAITING, error_message=reason[:2000], updated_at=now)
    )


# --- The sweeper ---------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    resubmitted: int = 0
    repolled: int = 0
    redownloaded: int = 0
    failed: int = 0


def jobs_sweep(*, stale_after: float | None = None) -> SweepReport:
    """Re-drive jobs whose state went stale; fail those that keep failing.

    A job is stale when nothing touched it for DASHBOARD_STALE_AFTER seconds
    (a worker died, a message was lost, the API was down), or `stale_after`
    seconds: 0 after the broker restarted, when every message may be gone.
    Each re-drive counts as an attempt; past DASHBOARD_MAX_ATTEMPTS, or past
    DASHBOARD_JOB_TIMEOUT in all, the job fails with the reason instead of
    being tried forever.
    """
    now = timezone.now()
    if stale_after is None:
        stale_after = settings.DASHBOARD_STALE_AFTER
    untouched_since = now - timedelta(seconds=stale_after)
    stale = Job.objects.filter(status__in=Job.ACTIVE, updated_at__lt=untouched_since)
    counts = {"resubmitted": 0, "repolled": 0, "redownloaded": 0, "failed": 0}
    for job in stale.only("id", "status", "attempts", "created_at"):
        too_old = job.created_at < now - timedelta(seconds=settings.DASHBOARD_JOB_TIMEOUT)
        # A job waiting for the queue is not failing: only the time limit ends its wait.
        worn_out = (
            job.attempts >= settings.DASHBOARD_MAX_ATTEMPTS and job.status != Job.Status.WAITING
        )
        if too_old or worn_out:
            reason = (
                "it took longer than the time limit"
                if too_old
                else f"it was tried {job.attempts} times"
            )
            if job_fail(job_id=job.pk, message=f"Gave up on this image: {reason}. Retry it?"):
                counts["failed"] += 1
            continue
        touched = Job.objects.filter(
            pk=job.pk,
            status=job.status,
            updated_at__lt=untouched_since,
        ).update(attempts=F("attempts") + 1, updated_at=now)
        if not touched:
            continue  # someone else moved it meanwhile
        if job.status in Job.UNSENT:
            enqueue.job_submit(str(job.pk))
            counts["resubmitted"] += 1
        elif job.status == Job.Status.DOWNLOADING:
            enqueue.job_download(str(job.pk))
            counts["redownloaded"] += 1
        else:
            enqueue.job_poll(str(job.pk))
            counts["repolled"] += 1
    if any(counts.values()):
        logger.warning("Swept stale jobs: %s", counts)
    return SweepReport(**counts)


# --- Helpers -------------------------------------------------------------------------


def storage_name(filename: str) -> str:
    """A storage name from a person's file name: no paths, no odd characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return get_valid_filename(base)[:100] or "image"
    except Exception:  # get_valid_filename refuses names like "." or ".."
        return "image"
