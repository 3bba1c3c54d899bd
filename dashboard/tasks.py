"""The dashboard's Celery tasks, all on the `default` (I/O) queue.

They are thin: take a job id, call the service, decide what comes next. A
retryable API failure (no answer, 5xx, 429) is retried with backoff and
jitter; any other API error fails the job with the API's own message. A
submission the API cannot take for now (503: its queue is down; or no answer)
leaves the job waiting for the queue, sent again until its time limit. The
periodic sweeper re-drives jobs whose state went stale, so none is stuck
silently even when a message is lost.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from dashboard import cancellation, services
from dashboard.client import ApiError

logger = logging.getLogger(__name__)


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter, capped below the visibility timeout."""
    ceiling = min(settings.DASHBOARD_RETRY_MAX_DELAY, 2.0 * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


def _give_up_or_retry(task, job_id: str, error: ApiError) -> None:  # type: ignore[no-untyped-def]
    if error.retryable and task.request.retries < settings.DASHBOARD_TASK_RETRIES:
        raise task.retry(countdown=_backoff(task.request.retries), exc=error)
    prefix = "" if not error.retryable else "The Face Enhancer API kept failing: "
    services.job_fail(job_id=job_id, message=prefix + error.message)


def _wait_for_the_queue(task, job_id: str, error: ApiError) -> None:  # type: ignore[no-untyped-def]
    """The API cannot take the job for now: show it waiting and send it again later.

    No retry limit: an outage is not the job's fault, and services.job_wait
    ends the wait at the job's time limit.
    """
    reason = services.API_UNREACHABLE if error.status == 0 else services.API_QUEUE_DOWN
    if services.job_wait(job_id=job_id, reason=reason):
        countdown = max(_backoff(task.request.retries), error.retry_after or 0)
        raise task.retry(countdown=min(countdown, settings.DASHBOARD_RETRY_MAX_DELAY), exc=error)


@shared_task(bind=True, name="dashboard.job_submit", max_retries=None)
def job_submit_task(self, job_id: str, fresh: bool = False) -> None:  # type: ignore[no-untyped-def]
    # `fresh` is ignored: the job carries its Idempotency-Key now. It stays in
    # the signature so that messages queued by an older version still run.
    try:
        moved = services.job_submit(job_id=job_id)
    except ApiError as e:
        if e.unavailable:
            _wait_for_the_queue(self, job_id, e)
        else:
            _give_up_or_retry(self, job_id, e)
        return
    except OSError as e:  # the stored upload is gone or unreadable
        services.job_fail(job_id=job_id, message=f"The uploaded file cannot be read: {e}")
        return
    if moved:
        job_poll_task.apply_async((job_id,), countdown=settings.DASHBOARD_POLL_INTERVAL)


@shared_task(bind=True, name="dashboard.job_poll", max_retries=None)
def job_poll_task(self, job_id: str, round: int = 0) -> None:  # type: ignore[no-untyped-def]
    try:
        outcome = services.job_poll(job_id=job_id)
    except ApiError as e:
        _give_up_or_retry(self, job_id, e)
        return
    if outcome.download:
        job_download_task.delay(job_id)
    elif not outcome.done:
        # Poll often at first, then back off: most images finish in seconds.
        countdown = min(
            settings.DASHBOARD_POLL_INTERVAL * 1.5**round, settings.DASHBOARD_POLL_MAX_INTERVAL
        )
        job_poll_task.apply_async((job_id, round + 1), countdown=countdown)


@shared_task(bind=True, name="dashboard.job_download", max_retries=None)
def job_download_task(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
    try:
        services.job_download(job_id=job_id)
    except ApiError as e:
        _give_up_or_retry(self, job_id, e)


@shared_task(bind=True, name="dashboard.job_cancel_upstream", max_retries=None)
def job_cancel_upstream_task(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
    """Tell the API to cancel a cancelled job's process, until it answers or the retries end.

    Giving up is safe: the job is Cancelled here already, and what the API
    still makes is never downloaded (every later step acts on active jobs only).
    """
    try:
        upstream = cancellation.job_cancel_upstream(job_id=job_id)
    except ApiError as e:
        if self.request.retries < settings.DASHBOARD_TASK_RETRIES:
            raise self.retry(countdown=_backoff(self.request.retries), exc=e) from e
        logger.warning("job %s: the API was not told to cancel its process (%s)", job_id, e)
        return
    cancellation.job_record_cancelled_upstream(job_id=job_id, upstream=upstream)


@shared_task(name="dashboard.jobs_sweep")
def jobs_sweep_task() -> dict[str, int]:
    return services.jobs_sweep().__dict__
