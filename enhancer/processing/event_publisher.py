"""Publishing a process's events: throttled progress writes, Progress and TaskCompleted.

Not the engine's progress plan (enhancer.engine.progress): this is what the
service tells the client (the `progress` field) and its notification channels.

The engine reports progress often (per stage, per face). Writing each report
would cost a database write per percent; this keeps a write only when the
value moved by FACE_ENHANCING_PROGRESS_STEP points or, if it moved at all,
FACE_ENHANCING_PROGRESS_INTERVAL seconds after the previous write. So a
process writes at most 100/STEP + duration/INTERVAL times. Clients see
`progress` in CheckUserProgress; notification channels get an
ImageFaceEnhancingProgress message when the process starts and each time it
crosses a multiple of FACE_ENHANCING_NOTIFY_STEP.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from enhancer.models import FaceEnhancerProcess, RenderTask
from enhancer.notifications.services import publish_event
from enhancer.processing.claims import Claim, ClaimLost

logger = logging.getLogger(__name__)

PROGRESS = "ImageFaceEnhancingProgress"
TASK_COMPLETED = "ImageFaceEnhancingTaskCompleted"

# The engine's 0..100 is mapped into this part of the process's progress:
# claiming and reading the upload come before it, storing the result after.
ENGINE_START, ENGINE_END = 5, 95


def publish(
    message_type: str,
    process: FaceEnhancerProcess,
    task: RenderTask,
    *,
    progress: int,
    is_successful: bool | None = None,
    error_message: str | None = None,
    result_file_name: str | None = None,
) -> None:
    """publish_event for this process; a notification never decides the job's fate."""
    try:
        publish_event(
            message_type=message_type,
            application_id=process.application_id,
            user_id=process.user_id,
            process_id=process.id,
            task_id=task.id,
            progress=progress,
            is_successful=is_successful,
            error_message=error_message,
            result_file_name=result_file_name,
        )
    except Exception:
        logger.exception("process %s: publishing %s failed", process.id, message_type)


class ProgressReporter:
    """Owns the `progress` of one claimed process while a worker runs it."""

    def __init__(
        self,
        claim: Claim,
        process: FaceEnhancerProcess,
        task: RenderTask,
        *,
        is_lost: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.claim = claim
        self.process = process
        self.task = task
        self.is_lost = is_lost
        self.clock = clock
        self.written = process.progress
        self.written_at = -math.inf
        self.notified = 0  # the last multiple of NOTIFY_STEP announced
        self.writes = 0

    def started(self) -> None:
        """The worker has the process: write it and announce it."""
        self.set(2, force=True)
        publish(PROGRESS, self.process, self.task, progress=self.written)

    def engine(self, percent: float) -> None:
        """The callback handed to Enhancer.enhance."""
        span = ENGINE_END - ENGINE_START
        self.set(ENGINE_START + span * min(max(float(percent), 0.0), 100.0) / 100.0)

    def set(self, value: float, *, force: bool = False) -> None:
        if self.is_lost():
            raise ClaimLost()
        percent = int(min(max(value, 0), 100))
        if percent <= self.written and not force:
            return
        now = self.clock()
        moved = percent - self.written
        due = now - self.written_at >= settings.FACE_ENHANCING_PROGRESS_INTERVAL
        if not force and moved < settings.FACE_ENHANCING_PROGRESS_STEP and not due:
            return
        if not self.claim.update(progress=percent, heartbeat_at=timezone.now()):
            raise ClaimLost()
        self.written, self.written_at = percent, now
        self.writes += 1
        self._maybe_notify(percent)

    def _maybe_notify(self, percent: int) -> None:
        step = settings.FACE_ENHANCING_NOTIFY_STEP
        crossed = percent // step * step
        if crossed > self.notified and percent < 100:
            self.notified = crossed
            publish(PROGRESS, self.process, self.task, progress=percent)
