"""Which worker holds a face enhancing process, decided by conditional updates.

Celery may hand the same message to a worker more than once: a duplicate
delivery while the first run is still going, a redelivery after the worker
running it was killed (late ack + reject on worker lost), or a message
restored by the broker after a crash. The database row, not the broker, says
what happens:

- a Queued process is taken by `UPDATE ... WHERE status = 'Queued' AND
  attempts = n`: of two deliveries racing for it, exactly one updates a row;
- a Processing process is taken over only when its holder is known to be dead:
  its process is gone from this host, or it has not beaten its heartbeat for
  FACE_ENHANCING_HEARTBEAT_TIMEOUT seconds. Each take counts an attempt, so an
  image that kills every worker that touches it is failed after
  FACE_ENHANCING_MAX_ATTEMPTS instead of looping forever;
- every later write of the holder is conditional on still holding the claim
  (`worker` and `attempts` unchanged), so a holder wrongly presumed dead can
  never overwrite the work of the one that took over.

"This process is the holder, so the holder's run is over" assumes one task
at a time per process: run the `enhance` queue with the prefork (default) or
solo pool, not threads.
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from enhancer.models import FaceEnhancerProcess, ProcessStatus

logger = logging.getLogger(__name__)


def worker_identity() -> str:
    """ "host:pid" of this process, as recorded in FaceEnhancerProcess.worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(worker: str) -> bool:
    """True if `worker` ran on this host and its process no longer exists.

    On another host nothing can be known from here: the heartbeat decides.
    """
    host, _, pid_text = worker.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # A prefork child runs one task at a time: if the holder is this very
        # process, the run that claimed it has ended without finishing.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by another user
    return False


def heartbeat_is_stale(process: FaceEnhancerProcess) -> bool:
    beat = process.heartbeat_at or process.started_at or process.updated_at
    limit = timedelta(seconds=settings.FACE_ENHANCING_HEARTBEAT_TIMEOUT)
    return beat < timezone.now() - limit


class ClaimOutcome(enum.Enum):
    """What a delivery found when it tried to claim a process."""

    CLAIMED = "claimed"
    GONE = "gone"  # deleted meanwhile (the application, or a flushed test database)
    FINISHED = "finished"  # Completed or Failed already: a duplicate delivery
    HELD = "held"  # a live worker holds it: that worker's own message covers it
    HELD_ELSEWHERE = "held_elsewhere"  # held on another host, alive for now: look again later
    EXHAUSTED = "exhausted"  # every attempt died; the caller fails it


@dataclass(frozen=True)
class Claim:
    """Proof of holding a process: the values every conditional write checks."""

    process_id: uuid.UUID
    worker: str
    attempt: int

    def rows(self) -> Any:
        return FaceEnhancerProcess.objects.filter(
            pk=self.process_id,
            status=ProcessStatus.PROCESSING,
            worker=self.worker,
            attempts=self.attempt,
        )

    def update(self, **fields: Any) -> bool:
        """Write fields if the claim still holds; False means it was lost."""
        fields.setdefault("updated_at", timezone.now())
        return self.rows().update(**fields) == 1


class ClaimLost(Exception):
    """Another worker took the process over; this run must stop without writing."""


def claim(process_id: uuid.UUID) -> tuple[ClaimOutcome, Claim | None, FaceEnhancerProcess | None]:
    """Try to take the process for this worker; see the module docstring."""
    process = FaceEnhancerProcess.objects.filter(pk=process_id).first()
    if process is None:
        return ClaimOutcome.GONE, None, None
    if process.is_finished:
        return ClaimOutcome.FINISHED, None, process
    if process.status == ProcessStatus.PROCESSING:
        dead = holder_is_dead(process.worker) or heartbeat_is_stale(process)
        if not dead:
            same_host = process.worker.rpartition(":")[0] == socket.gethostname()
            return (ClaimOutcome.HELD if same_host else ClaimOutcome.HELD_ELSEWHERE), None, process
        logger.warning(
            "process %s: its worker %s is gone after attempt %s",
            process.id,
            process.worker,
            process.attempts,
        )
        if process.attempts >= settings.FACE_ENHANCING_MAX_ATTEMPTS:
            return ClaimOutcome.EXHAUSTED, None, process

    me = worker_identity()
    now = timezone.now()
    taken = FaceEnhancerProcess.objects.filter(
        pk=process.pk, status=process.status, worker=process.worker, attempts=process.attempts
    ).update(
        status=ProcessStatus.PROCESSING,
        worker=me,
        attempts=F("attempts") + 1,
        started_at=process.started_at or now,
        heartbeat_at=now,
        updated_at=now,
    )
    if taken != 1:
        # Someone else got there first; what they do is theirs to finish.
        process.refresh_from_db()
        return ClaimOutcome.HELD, None, process
    process.refresh_from_db()
    return ClaimOutcome.CLAIMED, Claim(process.pk, me, process.attempts), process


class Heartbeat:
    """Beats `heartbeat_at` from a thread while the engine holds the main one.

    The engine can spend a long stretch in native code without reporting
    progress; the beat is what tells other workers (and the operators) that
    this process is still being worked on.
    """

    def __init__(self, claim: Claim, interval: float | None = None) -> None:
        self.claim = claim
        self.interval = interval or settings.FACE_ENHANCING_HEARTBEAT_INTERVAL
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self.claim.update(heartbeat_at=timezone.now()):
                        self.lost.set()
                        return
                except Exception:
                    # A database hiccup must not kill the beat; the next one retries.
                    logger.exception("process %s: heartbeat failed", self.claim.process_id)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection
