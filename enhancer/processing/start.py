"""Starting a face enhancing process: store the upload, create the process
and its render task, enqueue after commit; a repeated Idempotency-Key answers
the process it made.

One upload goes view -> `process_start` -> enhancer.processing.enqueue ->
the worker's enhancer.processing.tasks.process_enhance ->
enhancer.processing.run.process_run -> Completed or Failed.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from enhancer.models import Application, FaceEnhancerProcess, RenderTask
from enhancer.processing import enqueue
from enhancer.processing.messages import NOT_QUEUED
from enhancer.processing.stop import process_delete, process_fail

logger = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


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
    try:
        enqueue.process_enhance(process_id=process_id)
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
    try:
        enqueue.process_enhance(process_id=process_id)
    except Exception:
        logger.exception("process %s: could not be enqueued", process_id)
        process_fail(process_id=process_id, message=NOT_QUEUED)
