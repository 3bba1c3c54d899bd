"""Writes of the dashboard: jobs created, submitted, polled, downloaded, swept.

Each step moves a job from one status to the next with a conditional UPDATE
(`filter(id=..., status=expected).update(...)`): when two deliveries of the
same step race (a webhook and a poll both seeing completion), one wins and the
other does nothing.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.client import ApiError, Connection, FaceEnhancerClient
from dashboard.models import ApiConnection, EarlierProcess, Job, Membership
from dashboard.api_answers import find_process

logger = logging.getLogger(__name__)

_clients: dict[tuple[int, str], FaceEnhancerClient] = {}


def connection_client(connection: ApiConnection) -> FaceEnhancerClient:
    """One client per connection and process, so that its tokens are reused."""
    key = (connection.pk, connection.updated_at.isoformat())
    client = _clients.get(key)
    if client is None:
        client = FaceEnhancerClient(
            Connection(
                base_url=connection.url,
                application_id=connection.application_id,
                api_key=connection.api_key,
                api_secret=connection.api_secret,
                jwt_private_key=connection.jwt_private_key,
            ),
            connect_timeout=settings.DASHBOARD_API_CONNECT_TIMEOUT,
            read_timeout=settings.DASHBOARD_API_READ_TIMEOUT,
        )
        _clients[key] = client
    return client


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
    job.original.save(_safe_name(filename), File(image), save=False)
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
    from dashboard.tasks import job_submit_task

    try:
        job_submit_task.delay(str(job.pk))
    except Exception as e:
        logger.warning("job %s: its submission could not be queued (%s)", job.pk, e)
        if job_wait(job_id=job.pk, reason=OUR_QUEUE_DOWN):
            job.status = Job.Status.WAITING
            job.error_message = OUR_QUEUE_DOWN


# --- The worker's steps ----------------------------------------------------------


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


def job_submit(*, job_id: uuid.UUID | str) -> bool:
    """POST the upload to the enhance endpoint. True when the job moved on.

    The Idempotency-Key is the one stored on the job, so a second submit of
    the same job (a redelivered task, the sweeper) gets the same process back,
    and a retried job (a new key, see job_retry) a new one.
    """
    job = (
        Job.objects.select_related("team__connection")
        .filter(pk=job_id, status__in=Job.UNSENT)
        .first()
    )
    if job is None:
        return False
    Job.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    from dashboard.webhooks import connection_register_webhook

    connection_register_webhook(connection=job.team.connection)
    client = connection_client(job.team.connection)
    key = job.idempotency_key or job.pk.hex
    with job.original.open("rb") as image:
        body = client.start(
            user_id=job.user_guid,
            image=image,
            filename=job.original_name,
            aria_ratio=job.aria_ratio,
            max_face_count=job.max_face_count,
            idempotency_key=key,
        )
    process_id = uuid.UUID(str(body["imageFaceEnhancerProcessId"]))
    task_id = _first_task_id(body)
    moved = Job.objects.filter(pk=job.pk, status__in=Job.UNSENT).update(
        status=Job.Status.SUBMITTED,
        error_message="",
        process_id=process_id,
        task_id=task_id,
        progress=int(body.get("progress") or 0),
        submitted_at=timezone.now(),
        attempts=0,
        updated_at=timezone.now(),
    )
    # Cancelled while the upload was on its way: the process exists now, so
    # it is linked to the job (the Team page shows it as this job's, not
    # another client's) and cancelled at the API too.
    if not moved and Job.objects.filter(
        pk=job.pk, status=Job.Status.CANCELLED, process_id=None
    ).update(process_id=process_id, task_id=task_id, updated_at=timezone.now()):
        from dashboard.cancellation import send_to_cancel_upstream

        send_to_cancel_upstream(job.pk)
    return bool(moved)


@dataclass(frozen=True)
class PollOutcome:
    done: bool  # no further poll needed (downloading, failed or gone)
    download: bool  # this poll moved the job to downloading


def job_poll(*, job_id: uuid.UUID | str) -> PollOutcome:
    """Ask CheckUserProgress about the job's process and record the answer."""
    job = (
        Job.objects.select_related("team__connection")
        .filter(pk=job_id, status__in=[Job.Status.SUBMITTED, Job.Status.PROCESSING])
        .first()
    )
    if job is None or job.process_id is None:
        return PollOutcome(done=True, download=False)
    client = connection_client(job.team.connection)
    try:
        body = client.check_user_progress(user_id=job.user_guid, process_id=job.process_id)
    except ApiError as e:
        if e.status == 404:
            job_fail(job_id=job.pk, message="The Face Enhancer API no longer knows this process.")
            return PollOutcome(done=True, download=False)
        raise
    found = find_process(body, job.process_id)
    if found is None:
        job_fail(job_id=job.pk, message="The Face Enhancer API no longer knows this process.")
        return PollOutcome(done=True, download=False)
    if found.cancelled:
        # Cancelled at the API by someone else (another client of the application).
        Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
            status=Job.Status.CANCELLED,
            error_message=f"Cancelled at the Face Enhancer API: {found.error_message}"[:2000],
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return PollOutcome(done=True, download=False)
    if found.failed:
        job_fail(job_id=job.pk, message=found.error_message)
        return PollOutcome(done=True, download=False)
    changes = {
        "progress": found.progress,
        "faces_detected": found.faces_detected,
        "faces_enhanced": found.faces_enhanced,
        "updated_at": timezone.now(),
    }
    if found.task_ids and job.task_id is None:
        changes["task_id"] = found.task_ids[0]
    active = Job.objects.filter(pk=job.pk, status__in=[Job.Status.SUBMITTED, Job.Status.PROCESSING])
    if found.completed:
        moved = active.update(status=Job.Status.DOWNLOADING, attempts=0, **changes)
        return PollOutcome(done=True, download=bool(moved))
    # Still in the API's queue: the job stays Queued rather than "Enhancing 0%".
    status = Job.Status.PROCESSING if found.started else Job.Status.SUBMITTED
    active.update(status=status, **changes)
    return PollOutcome(done=False, download=False)


def job_mark_completed_upstream(
    *, process_id: uuid.UUID, task_id: uuid.UUID | None = None
) -> Job | None:
    """A webhook said the process completed: go straight to downloading."""
    job = Job.objects.filter(process_id=process_id).first()
    if job is None:
        return None
    changes: dict[str, object] = {}
    if job.task_id is None and task_id is not None:
        changes["task_id"] = task_id
    moved = Job.objects.filter(
        pk=job.pk, status__in=[Job.Status.SUBMITTED, Job.Status.PROCESSING]
    ).update(
        status=Job.Status.DOWNLOADING,
        progress=100,
        attempts=0,
        updated_at=timezone.now(),
        **changes,
    )
    return job if moved else None


def job_download(*, job_id: uuid.UUID | str) -> bool:
    """Download the result and its low-resolution preview into media storage."""
    job = (
        Job.objects.select_related("team__connection")
        .filter(pk=job_id, status=Job.Status.DOWNLOADING)
        .first()
    )
    if job is None or job.process_id is None:
        return False
    Job.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    client = connection_client(job.team.connection)
    # One last look at the process: a webhook completion carries neither the
    # face counts nor, from every API, the task id.
    found = find_process(
        client.check_user_progress(user_id=job.user_guid, process_id=job.process_id),
        job.process_id,
    )
    if found is None or not (job.task_id or found.task_ids):
        job_fail(job_id=job.pk, message="The Face Enhancer API names no result to download.")
        return False
    job.task_id = job.task_id or found.task_ids[0]
    stem = job.original_name.rsplit(".", 1)[0] or "image"
    with tempfile.TemporaryFile() as full, tempfile.TemporaryFile() as low:
        result = client.download(process_id=job.process_id, task_id=job.task_id, destination=full)
        client.download(
            process_id=job.process_id, task_id=job.task_id, destination=low, low_resolution=True
        )
        extension = _extension(result.filename, result.content_type)
        full.seek(0)
        low.seek(0)
        job.result.save(_safe_name(f"{stem}-enhanced{extension}"), File(full), save=False)
        job.preview.save(_safe_name(f"{stem}-preview.jpg"), File(low), save=False)
    with transaction.atomic():
        moved = Job.objects.filter(pk=job.pk, status=Job.Status.DOWNLOADING).update(
            status=Job.Status.COMPLETED,
            progress=100,
            task_id=job.task_id,
            faces_detected=found.faces_detected,
            faces_enhanced=found.faces_enhanced,
            result=job.result.name,
            preview=job.preview.name,
            result_content_type=result.content_type,
            completed_at=timezone.now(),
            updated_at=timezone.now(),
            attempts=0,
        )
    if not moved:  # cancelled meanwhile: don't keep the files
        job.result.delete(save=False)
        job.preview.delete(save=False)
    return bool(moved)


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
    from dashboard.tasks import job_download_task, job_poll_task, job_submit_task

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
            job_submit_task.delay(str(job.pk))
            counts["resubmitted"] += 1
        elif job.status == Job.Status.DOWNLOADING:
            job_download_task.delay(str(job.pk))
            counts["redownloaded"] += 1
        else:
            job_poll_task.delay(str(job.pk))
            counts["repolled"] += 1
    if any(counts.values()):
        logger.warning("Swept stale jobs: %s", counts)
    return SweepReport(**counts)


# --- Helpers -------------------------------------------------------------------------


def _first_task_id(body: dict[str, object]) -> uuid.UUID | None:
    value = body.get("taskId")
    if not value:
        tasks = body.get("tasks") or body.get("renderTasks") or []
        if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
            value = tasks[0].get("taskId")
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


_CONTENT_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _extension(filename: str, content_type: str) -> str:
    if "." in filename:
        return "." + filename.rsplit(".", 1)[1].lower()
    return _CONTENT_EXTENSIONS.get(content_type.split(";")[0].strip(), ".jpg")


def _safe_name(filename: str) -> str:
    """A storage name from a person's file name: no paths, no odd characters."""
    from django.utils.text import get_valid_filename

    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return get_valid_filename(base)[:100] or "image"
    except Exception:  # get_valid_filename refuses names like "." or ".."
        return "image"
