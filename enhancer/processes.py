"""Writes of face enhancing processes: start one, run it, finish it.

One upload goes view -> `process_start` (store the upload, create the process
and its render task, enqueue after commit) -> enhancer.tasks.process_enhance
-> `process_run` (claim, engine, store the result) -> Completed or Failed.
Claiming is enhancer.claims; throttled progress and notifications are
enhancer.progress.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePosixPath

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from enhancer import claims
from enhancer.claims import Claim, ClaimLost, Heartbeat, Outcome
from enhancer.engine import EngineError, EnhanceOptions, EnhanceResult, get_enhancer
from enhancer.models import (
    Application,
    FaceEnhancerProcess,
    ProcessStatus,
    RenderState,
    RenderTask,
)
from enhancer.progress import ENGINE_START, TASK_COMPLETED, ProgressReporter, publish

logger = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# What a user reads in `errorMessage` when the cause is on our side. Engine
# errors carry their own message (EngineError.message), written for users.
UNEXPECTED_ERROR = (
    "An unexpected error stopped the enhancement and has been logged. "
    "Try again; if it keeps happening, contact the service's operator."
)
UPLOAD_MISSING = "The uploaded image is no longer stored on the server; upload it again."
NOT_QUEUED = "The service could not queue this image for processing; start it again in a moment."
OUT_OF_MEMORY = (
    "The image needs more memory than this server has; reduce its dimensions and try again."
)
CANCELLED_MESSAGE = "The process was cancelled by its application."


def time_limit_message() -> str:
    return (
        f"Enhancing this image took longer than the {settings.CELERY_TASK_TIME_LIMIT} s "
        "limit and was stopped; try a smaller image or a lower maxFaceCount."
    )


def attempts_message(attempts: int) -> str:
    return (
        f"The worker enhancing this image stopped unexpectedly {attempts} times (for "
        "example, it ran out of memory), so it was not tried again; try a smaller image."
    )


@dataclass(frozen=True)
class AcceptedUpload:
    """An uploadedImage whose header passed the engine's limits (format, size, frames);
    its pixels are decoded by the worker, which fails the process if they are damaged."""

    data: bytes
    name: str  # the client's file name, made safe
    format: str  # "JPEG", "PNG" or "WEBP", from the bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class QueueUnavailable(Exception):
    """The broker did not take a new process's message; the process was not kept."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key already started a process with different input."""

    def __init__(self, process: FaceEnhancerProcess) -> None:
        self.process = process
        super().__init__(f"Idempotency-Key already used by process {process.id}")


class ProcessAlreadyFinished(Exception):
    """Only a Queued or Processing process can be cancelled; this one is `status`."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"the process is already {status}")


@dataclass(frozen=True)
class Started:
    process: FaceEnhancerProcess
    replayed: bool  # True: an earlier request with the same Idempotency-Key made it


def storage_folder(process: FaceEnhancerProcess) -> str:
    return f"face-enhancing/{process.application_id}/{process.id}"


def _fingerprint(*, user_id: uuid.UUID, aria_ratio: float, max_face_count: int, sha: str) -> str:
    text = f"{user_id}|{aria_ratio!r}|{max_face_count}|{sha}"
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(
    application: Application, idempotency_key: str, fingerprint: str
) -> FaceEnhancerProcess | None:
    existing = FaceEnhancerProcess.objects.filter(
        application=application, idempotency_key=idempotency_key
    ).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(existing)
    return existing


@transaction.atomic
def process_start(
    *,
    application: Application,
    user_id: uuid.UUID,
    aria_ratio: float,
    max_face_count: int,
    upload: AcceptedUpload,
    idempotency_key: str | None = None,
) -> Started:
    """Store the upload, create the process and its render task, enqueue on commit."""
    sha = upload.sha256
    fingerprint = _fingerprint(
        user_id=user_id, aria_ratio=aria_ratio, max_face_count=max_face_count, sha=sha
    )
    if idempotency_key:
        existing = _replay(application, idempotency_key, fingerprint)
        if existing is not None:
            return Started(existing, replayed=True)

    process = FaceEnhancerProcess(
        application=application,
        user_id=user_id,
        aria_ratio=aria_ratio,
        max_face_count=max_face_count,
        upload_name=upload.name,
        upload_format=upload.format,
        upload_width=upload.width,
        upload_height=upload.height,
        upload_size=len(upload.data),
        upload_sha256=sha,
        idempotency_key=idempotency_key or "",
        request_fingerprint=fingerprint,
    )
    name = f"{storage_folder(process)}/upload.{EXTENSIONS[upload.format]}"
    process.upload.name = default_storage.save(name, ContentFile(upload.data))
    try:
        # A savepoint: losing an Idempotency-Key race to a concurrent request
        # rolls back only these inserts, and the winner's process is answered.
        with transaction.atomic():
            process.save(force_insert=True)
            RenderTask.objects.create(process=process)
    except IntegrityError:
        default_storage.delete(process.upload.name)
        existing = _replay(application, idempotency_key, fingerprint) if idempotency_key else None
        if existing is None:
            raise
        return Started(existing, replayed=True)
    except BaseException:
        default_storage.delete(process.upload.name)
        raise
    transaction.on_commit(partial(process_enqueue_or_discard, process_id=process.id))
    return Started(process, replayed=False)


def process_enqueue_or_discard(*, process_id: uuid.UUID) -> None:
    """Send a just-started process to the `enhance` queue, or take it back entirely.

    Called after commit, so a worker never receives an id it cannot read yet.
    If the broker is down the client is better served by a 503 it can retry
    than by a Failed process: the rows and the upload are deleted, and
    QueueUnavailable propagates out of the commit (Django re-raises a failing
    on_commit callback) to the view.
    """
    from enhancer.tasks import QUEUE, process_enhance  # the task module imports this one

    try:
        process_enhance.apply_async(args=[str(process_id)], queue=QUEUE)
    except Exception as e:
        logger.warning("process %s: not queued (%s); discarded", process_id, e)
        process = FaceEnhancerProcess.objects.filter(pk=process_id).first()
        if process is not None:
            process_delete(process=process)
        raise QueueUnavailable() from e


def process_enqueue(*, process_id: uuid.UUID) -> None:
    """Send the process to the `enhance` queue; if that fails, say so on the process.

    Called after commit. A process whose message never reached the broker
    would wait forever, so a failure is recorded instead of only logged.
    """
    from enhancer.tasks import QUEUE, process_enhance  # the task module imports this one

    try:
        process_enhance.apply_async(args=[str(process_id)], queue=QUEUE)
    except Exception:
        logger.exception("process %s: could not be enqueued", process_id)
        process_fail(process_id=process_id, message=NOT_QUEUED)


@transaction.atomic
def process_fail(*, process_id: uuid.UUID, message: str, claim: Claim | None = None) -> bool:
    """Mark an unfinished process Failed with `message`; False if it was not changed.

    With a claim, only while that claim still holds; without one, whatever
    state short of finished the process is in.
    """
    rows = (
        claim.rows()
        if claim is not None
        else FaceEnhancerProcess.objects.filter(
            pk=process_id, status__in=[ProcessStatus.QUEUED, ProcessStatus.PROCESSING]
        )
    )
    now = timezone.now()
    if (
        rows.update(
            status=ProcessStatus.FAILED, error_message=message, finished_at=now, updated_at=now
        )
        != 1
    ):
        return False
    RenderTask.objects.filter(process_id=process_id).update(
        render_state=RenderState.FAILED, updated_at=now
    )
    _publish_unsuccessful(FaceEnhancerProcess.objects.get(pk=process_id), message)
    logger.info("process %s: failed: %s", process_id, message)
    return True


def _publish_unsuccessful(process: FaceEnhancerProcess, message: str) -> None:
    """TaskCompleted with IsSuccessful false, one per render task: Failed and Cancelled alike."""
    for task in process.render_tasks.all():
        publish(
            TASK_COMPLETED,
            process,
            task,
            progress=process.progress,
            is_successful=False,
            error_message=message,
        )


@transaction.atomic
def process_cancel(*, process: FaceEnhancerProcess) -> bool:
    """Cancel a Queued or Processing process; False if it was Cancelled already.

    A conditional update, as every change of state here: a worker that
    claims the process afterwards finds it finished and does nothing, and one
    running it loses its claim, so its next progress step stops it (see
    `_enhance`) and it keeps no result. Raises ProcessAlreadyFinished for a
    Completed or Failed process.
    """
    now = timezone.now()
    cancelled = FaceEnhancerProcess.objects.filter(
        pk=process.pk, status__in=[ProcessStatus.QUEUED, ProcessStatus.PROCESSING]
    ).update(
        status=ProcessStatus.CANCELLED,
        error_message=CANCELLED_MESSAGE,
        finished_at=now,
        updated_at=now,
    )
    process.refresh_from_db()
    if not cancelled:
        if process.status == ProcessStatus.CANCELLED:
            return False  # a second cancel changes nothing and tells nobody again
        raise ProcessAlreadyFinished(process.status)
    RenderTask.objects.filter(process=process).update(
        render_state=RenderState.CANCELLED, updated_at=now
    )
    _publish_unsuccessful(process, CANCELLED_MESSAGE)
    logger.info("process %s: cancelled", process.pk)
    return True


def process_run(*, process_id: uuid.UUID) -> Outcome:
    """Claim the process and enhance it, unless another delivery has it or had it."""
    outcome, claim, process = claims.claim(process_id)
    if outcome is Outcome.EXHAUSTED and process is not None:
        # Conditional on the dead holder still being recorded: of two
        # deliveries finding it, one fails it and one publishes nothing.
        dead = Claim(process.pk, process.worker, process.attempts)
        process_fail(process_id=process.pk, message=attempts_message(process.attempts), claim=dead)
    if outcome is not Outcome.CLAIMED or claim is None or process is None:
        logger.info("process %s: %s, nothing to do", process_id, outcome.value)
        return outcome
    try:
        _enhance(claim, process)
    except ClaimLost:
        if FaceEnhancerProcess.objects.filter(
            pk=process_id, status=ProcessStatus.CANCELLED
        ).exists():
            logger.info("process %s: cancelled while running; stopped", process_id)
        else:
            logger.warning("process %s: taken over by another worker; stopped", process_id)
    except EngineError as e:
        process_fail(process_id=process_id, message=e.message, claim=claim)
    except SoftTimeLimitExceeded:
        process_fail(process_id=process_id, message=time_limit_message(), claim=claim)
    except MemoryError:
        process_fail(process_id=process_id, message=OUT_OF_MEMORY, claim=claim)
    except Exception:
        logger.exception("process %s: enhancement failed", process_id)
        process_fail(process_id=process_id, message=UNEXPECTED_ERROR, claim=claim)
    return outcome


def _enhance(claim: Claim, process: FaceEnhancerProcess) -> None:
    from enhancer.engine_config import engine_config  # reads Django settings

    task = process.render_tasks.get()
    with Heartbeat(claim) as heartbeat:
        reporter = ProgressReporter(claim, process, task, is_lost=heartbeat.lost.is_set)
        _set_render_state(claim, task, RenderState.STARTED)
        reporter.started()
        data = _read_upload(process)
        reporter.set(ENGINE_START)
        _set_render_state(claim, task, RenderState.ENHANCING)
        options = EnhanceOptions(
            aria_ratio=process.aria_ratio, max_face_count=process.max_face_count
        )

        def engine_progress(percent: float) -> None:
            # One read per engine step (per stage and per face, not per
            # pixel): a cancel stops the work at the next step, not at the end.
            if not claim.rows().exists():
                raise ClaimLost()
            reporter.engine(percent)

        result = get_enhancer(engine_config()).enhance(data, options, progress=engine_progress)
        _set_render_state(claim, task, RenderState.STORING)
        reporter.set(97, force=True)
    _store_result(claim, process, task, result)


def _read_upload(process: FaceEnhancerProcess) -> bytes:
    try:
        with process.upload.open("rb") as upload:
            return upload.read()
    except FileNotFoundError:
        raise EngineError(UPLOAD_MISSING) from None


def _set_render_state(claim: Claim, task: RenderTask, state: RenderState) -> None:
    with transaction.atomic():
        if not claim.update():
            raise ClaimLost()
        RenderTask.objects.filter(pk=task.pk).update(render_state=state, updated_at=timezone.now())


def _store_result(
    claim: Claim, process: FaceEnhancerProcess, task: RenderTask, result: EnhanceResult
) -> None:
    # The attempt is in the names: a worker that lost its claim deletes its own
    # files, never those of the worker that took over.
    folder = PurePosixPath(storage_folder(process))
    result_name = default_storage.save(
        str(folder / f"{task.id}-result-{claim.attempt}.{result.extension.lstrip('.')}"),
        ContentFile(result.image_bytes),
    )
    preview_name = default_storage.save(
        str(folder / f"{task.id}-preview-{claim.attempt}.jpg"), ContentFile(result.preview_bytes)
    )
    now = timezone.now()
    with transaction.atomic():
        done = claim.update(
            status=ProcessStatus.COMPLETED,
            progress=100,
            faces_detected=result.faces_detected,
            faces_enhanced=result.faces_enhanced,
            faces=[face.to_dict() for face in result.faces],
            error_message="",
            finished_at=now,
            heartbeat_at=now,
        )
        if done:
            RenderTask.objects.filter(pk=task.pk).update(
                render_state=RenderState.COMPLETED,
                result=result_name,
                preview=preview_name,
                content_type=result.content_type,
                size=len(result.image_bytes),
                preview_size=len(result.preview_bytes),
                width=result.width,
                height=result.height,
                completed_at=now,
                updated_at=now,
            )
            publish(
                TASK_COMPLETED,
                process,
                task,
                progress=100,
                is_successful=True,
                result_file_name=result_name,
            )
    if not done:
        default_storage.delete(result_name)
        default_storage.delete(preview_name)
        raise ClaimLost()
    logger.info(
        "process %s: completed, %s of %s faces enhanced, engine %.2f s",
        process.id,
        result.faces_enhanced,
        result.faces_detected,
        result.timings.get("total", 0.0),
    )


@transaction.atomic
def process_delete(*, process: FaceEnhancerProcess) -> None:
    """Delete the process, its render tasks and every file they stored."""
    names = [process.upload.name]
    for task in process.render_tasks.all():
        names += [task.result.name, task.preview.name]
    process.delete()
    # Only once the rows are surely gone: a rollback must not leave rows
    # pointing at deleted files.
    transaction.on_commit(partial(_delete_files, [name for name in names if name]))


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


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
