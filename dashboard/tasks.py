"""The dashboard's Celery tasks (the Celery app's routes put them on the `default` queue).

They are thin: take a job id, call the service, decide what comes next. A
retryable API failure (a RetryableApiError: no answer, 5xx, 429) is retried
as declared on the task, with exponential backoff and jitter; when the retries
run out the job fails saying so, and any other API error fails it at once
with the API's own message. A submission the API cannot take for now (503:
its queue is down; or no answer) leaves the job waiting for the queue, sent
again until its time limit. The periodic sweeper re-drives jobs whose state
went stale, so none is stuck silently even when a message is lost.

Nothing imports this module but Celery's autodiscovery (and tests): code
enqueues through dashboard.enqueue, by task name.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from dashboard import cancellation, enqueue, job_steps, services
from dashboard.client import ApiError, RetryableApiError

logger = logging.getLogger(__name__)

# Seconds before the first retry, doubled at each next one.
RETRY_BACKOFF = 2
# Declared on every task that calls the API. The delays stay below the
# broker's visibility timeout (settings check it), past which a countdown is
# delivered twice.
API_RETRIES: dict[str, Any] = {
    "autoretry_for": (RetryableApiError,),
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": int(settings.DASHBOARD_RETRY_MAX_DELAY),
    "retry_jitter": True,
    "max_retries": settings.DASHBOARD_TASK_RETRIES,
    # Expected when the API is down: the worker logs it without a traceback.
    "throws": (RetryableApiError,),
}
# A job waiting for the API's queue is retried without a limit of its own:
# services.job_wait ends the wait at the job's time limit.
WAIT_WITHOUT_LIMIT = sys.maxsize


class JobStepTask(Task):
    """A job's step at the API: when its retries run out, the job fails saying why."""

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        if isinstance(exc, RetryableApiError):
            message = f"The Face Enhancer API kept failing: {exc.message}"
            services.job_fail(job_id=args[0], message=message)


class CancelUpstreamTask(Task):
    """Telling the API to cancel: giving up is safe, and only logged."""

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        if isinstance(exc, RetryableApiError):
            logger.warning("job %s: the API was not told to cancel its process (%s)", args[0], exc)


def _wait_for_the_queue(task: Task, job_id: str, error: ApiError) -> None:
    """The API cannot take the job for now: show it waiting and send it again later."""
    reason = services.API_UNREACHABLE if error.status == 0 else services.API_QUEUE_DOWN
    if services.job_wait(job_id=job_id, reason=reason):
        backoff = get_exponential_backoff_interval(
            factor=RETRY_BACKOFF,
            retries=task.request.retries,
            maximum=int(settings.DASHBOARD_RETRY_MAX_DELAY),
            full_jitter=True,
        )
        countdown = min(max(backoff, error.retry_after or 0), settings.DASHBOARD_RETRY_MAX_DELAY)
        raise task.retry(countdown=countdown, exc=error, max_retries=WAIT_WITHOUT_LIMIT)


@shared_task(bind=True, base=JobStepTask, name="dashboard.job_submit", **API_RETRIES)
def job_submit_task(self: Task, job_id: str, fresh: bool = False) -> None:
    # `fresh` is ignored: the job carries its Idempotency-Key now. It stays in
    # the signature so that messages queued by an older version still run.
    try:
        moved = job_steps.job_submit(job_id=job_id)
    except RetryableApiError as e:
        if not e.unavailable:
            raise  # retried as declared
        _wait_for_the_queue(self, job_id, e)
        return
    except ApiError as e:
        services.job_fail(job_id=job_id, message=e.message)
        return
    except OSError as e:  # the stored upload is gone or unreadable
        services.job_fail(job_id=job_id, message=f"The uploaded file cannot be read: {e}")
        return
    if moved:
        enqueue.job_poll(job_id, countdown=settings.DASHBOARD_POLL_INTERVAL)


@shared_task(bind=True, base=JobStepTask, name="dashboard.job_poll", **API_RETRIES)
def job_poll_task(self: Task, job_id: str, round: int = 0) -> None:
    try:
        outcome = job_steps.job_poll(job_id=job_id)
    except RetryableApiError:
        raise  # retried as declared
    except ApiError as e:
        services.job_fail(job_id=job_id, message=e.message)
        return
    if outcome.download:
        enqueue.job_download(job_id)
    elif not outcome.done:
        # Poll often at first, then back off: most images finish in seconds.
        countdown = min(
            settings.DASHBOARD_POLL_INTERVAL * 1.5**round, settings.DASHBOARD_POLL_MAX_INTERVAL
        )
        enqueue.job_poll(job_id, round=round + 1, countdown=countdown)


@shared_task(bind=True, base=JobStepTask, name="dashboard.job_download", **API_RETRIES)
def job_download_task(self: Task, job_id: str) -> None:
    try:
        job_steps.job_download(job_id=job_id)
    except RetryableApiError:
        raise  # retried as declared
    except ApiError as e:
        services.job_fail(job_id=job_id, message=e.message)


@shared_task(
    bind=True, base=CancelUpstreamTask, name="dashboard.job_cancel_upstream", **API_RETRIES
)
def job_cancel_upstream_task(self: Task, job_id: str) -> None:
    """Tell the API to cancel a cancelled job's process, until it answers or the retries end.

    Giving up is safe: the job is Cancelled here already, and what the API
    still makes is never downloaded (every later step acts on active jobs only).
    job_cancel_upstream raises only RetryableApiError, retried as declared.
    """
    upstream = cancellation.job_cancel_upstream(job_id=job_id)
    cancellation.job_record_cancelled_upstream(job_id=job_id, upstream=upstream)


@shared_task(name="dashboard.jobs_sweep")
def jobs_sweep_task() -> dict[str, int]:
    return services.jobs_sweep().__dict__
