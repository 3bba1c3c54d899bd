"""The worker's steps of a job at the Face Enhancer API: submit, poll, download.

Each step moves a job from one status to the next with a conditional UPDATE
(`filter(id=..., status=expected).update(...)`): when two deliveries of the
same step race (a webhook and a poll both seeing completion), one wins and the
other does nothing. API errors are raised to the task, which decides between
a retry, a wait and a failure.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.api_answers import find_process, uuid_or_none
from dashboard.api_clients import connection_client
from dashboard.cancellation import send_to_cancel_upstream
from dashboard.client import ApiError
from dashboard.models import Job
from dashboard.notification_channel import connection_register_webhook
from dashboard.services import job_fail, storage_name


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
    changes: dict[str, object] = {
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
        job.result.save(storage_name(f"{stem}-enhanced{extension}"), File(full), save=False)
        job.preview.save(storage_name(f"{stem}-preview.jpg"), File(low), save=False)
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


# --- Helpers -------------------------------------------------------------------------


def _first_task_id(body: dict[str, object]) -> uuid.UUID | None:
    value = body.get("taskId")
    if not value:
        tasks = body.get("tasks") or body.get("renderTasks") or []
        if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
            value = tasks[0].get("taskId")
    return uuid_or_none(value)


_CONTENT_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _extension(filename: str, content_type: str) -> str:
    if "." in filename:
        return "." + filename.rsplit(".", 1)[1].lower()
    return _CONTENT_EXTENSIONS.get(content_type.split(";")[0].strip(), ".jpg")
