"""Ending a face enhancing process short of success: fail it, cancel it, delete it.

Every change of state is a conditional UPDATE, so that a worker still running
the process finds it finished (or its claim lost) and keeps nothing.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState, RenderTask
from enhancer.processing.claims import Claim
from enhancer.processing.event_publisher import TASK_COMPLETED, publish
from enhancer.processing.messages import CANCELLED_MESSAGE

logger = logging.getLogger(__name__)


class ProcessAlreadyFinished(Exception):
    """Only a Queued or Processing process can be cancelled; this one is `status`."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"the process is already {status}")


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
    enhancer.processing.run) and it keeps no result. Raises ProcessAlreadyFinished for a
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
