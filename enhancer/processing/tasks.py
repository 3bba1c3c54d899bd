"""Celery tasks of face enhancing: thin, they take an id and call the services.

Only Celery imports this module (code sends messages through
enhancer.processing.enqueue, by task name); the task names are the ones queued
messages and the beat schedule use, so they do not follow the module's path.

Reliability comes from the settings in config/celery.py and config/settings.py
(late ack, reject on worker lost, prefetch 1, a hard time limit below the
broker's visibility timeout) and from the claim on the database row
(enhancer.processing.claims): a redelivered message re-runs a process only if
the worker that had it is dead, and counts the attempt.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery import Task, current_app, shared_task
from celery.signals import task_failure, worker_process_init, worker_ready
from django.conf import settings
from django.db import close_old_connections, connection

from enhancer.engine import get_enhancer
from enhancer.processing.claims import ClaimOutcome
from enhancer.processing.engine_config import engine_config
from enhancer.processing.enqueue import PROCESS_ENHANCE
from enhancer.processing.messages import attempts_message, time_limit_message
from enhancer.processing.recovery import process_recover_all, process_sweep_stale
from enhancer.processing.run import process_run
from enhancer.processing.stop import process_fail

logger = logging.getLogger(__name__)

# The queue config/celery.py routes PROCESS_ENHANCE to: a worker consuming it
# loads the engine and recovers lost processes when it starts.
QUEUE = "enhance"


@shared_task(
    bind=True,
    name=PROCESS_ENHANCE,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def process_enhance(self: Task, process_id: str) -> str:
    outcome = process_run(process_id=uuid.UUID(process_id))
    if outcome is ClaimOutcome.HELD_ELSEWHERE:
        # Held by a worker on another host that looked alive. If it dies
        # without its message coming back, its heartbeat goes stale: look
        # again once it would have.
        raise self.retry(countdown=settings.FACE_ENHANCING_HEARTBEAT_TIMEOUT, max_retries=None)
    return outcome.value


@task_failure.connect(sender=process_enhance)
def _record_hard_failure(
    sender: Task | None = None,
    exception: BaseException | None = None,
    args: tuple[Any, ...] | None = None,
    **kwargs: Any,
) -> None:
    """A hard time limit kills the child, so no code of the task runs to say so.

    The worker's main process reports it here (and a lost worker, should it
    ever not be requeued); the process is failed rather than left Processing.
    """
    if not args or not isinstance(exception, TimeLimitExceeded | WorkerLostError):
        return
    message = (
        time_limit_message() if isinstance(exception, TimeLimitExceeded) else attempts_message(1)
    )
    try:
        process_fail(process_id=uuid.UUID(str(args[0])), message=message)
    except Exception:
        logger.exception("process %s: could not record %r", args[0], exception)
    finally:
        connection.close()  # the main process forks children: hold no connection


def _consumes_enhance(app: Any) -> bool:
    try:
        declared = app.amqp.queues
    except AttributeError:
        return False
    # Without -Q a worker consumes every declared queue (consume_from is empty).
    return QUEUE in (declared.consume_from or declared)


@worker_process_init.connect
def _load_engine(**kwargs: Any) -> None:
    """Load the models in each new pool child, so no upload waits for them.

    In the child, never in the parent before the fork: thread pools of OpenMP
    and onnxruntime do not survive a fork (docs/engine.md).
    """
    if not _consumes_enhance(current_app):
        return
    try:
        get_enhancer(engine_config()).load()
    except Exception:
        # The first job will try again and fail with the engine's own message.
        logger.exception("loading the face enhancement models failed")


@worker_ready.connect
def _recover_lost_processes(sender: Any = None, **kwargs: Any) -> None:
    """A worker killed with messages in hand loses nothing: re-send them at start."""
    if not _consumes_enhance(getattr(sender, "app", None)):
        return
    try:
        close_old_connections()
        process_recover_all()
    except Exception:
        logger.exception("re-sending lost face enhancing processes failed")
    finally:
        connection.close()


@shared_task(name="enhancer.sweep_stale_processes")
def sweep_stale_processes() -> int:
    return process_sweep_stale()
