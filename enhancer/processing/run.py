"""Running a face enhancing process on a worker: claim it, enhance it, store the result.

Claiming is enhancer.processing.claims; throttled progress and notifications
are enhancer.processing.event_publisher; failing is enhancer.processing.stop.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import PurePosixPath

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from enhancer.engine import EngineError, EnhanceOptions, EnhanceResult, get_enhancer
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState, RenderTask
from enhancer.processing import claims
from enhancer.processing.claims import Claim, ClaimLost, ClaimOutcome, Heartbeat
from enhancer.processing.engine_config import engine_config
from enhancer.processing.event_publisher import (
    ENGINE_START,
    TASK_COMPLETED,
    ProgressReporter,
    publish,
)
from enhancer.processing.messages import (
    OUT_OF_MEMORY,
    UNEXPECTED_ERROR,
    UPLOAD_MISSING,
    attempts_message,
    time_limit_message,
)
from enhancer.processing.start import storage_folder
from enhancer.processing.stop import process_fail

logger = logging.getLogger(__name__)


def process_run(*, process_id: uuid.UUID) -> ClaimOutcome:
    """Claim the process and enhance it, unless another delivery has it or had it."""
    outcome, claim, process = claims.claim(process_id)
    if outcome is ClaimOutcome.EXHAUSTED and process is not None:
        # Conditional on the dead holder still being recorded: of two
        # deliveries finding it, one fails it and one publishes nothing.
        dead = Claim(process.pk, process.worker, process.attempts)
        process_fail(process_id=process.pk, message=attempts_message(process.attempts), claim=dead)
    if outcome is not ClaimOutcome.CLAIMED or claim is None or process is None:
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
