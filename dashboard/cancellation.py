"""Cancelling a job: here at once, and its process at the Face Enhancer API.

The API's CancelFaceEnhancing (an extension of this server's API beyond the
seed) takes a process out of the queue or stops it at its next progress step.
The job is Cancelled here first, whatever the API says: a person's cancel
never waits on an outage, and every later step (poll, webhook, download) acts
only on active jobs, so a result that still arrives is ignored. The API is
then told, at once when a person waits for the answer, else (and whenever it
cannot be reached) by a task retrying with backoff: so that it stops spending
a worker on an image nobody wants, and its process reads Cancelled on the Team
page rather than Completed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.utils import timezone

from dashboard import enqueue
from dashboard.api_clients import cancel_client, connection_client
from dashboard.client import ApiError, FaceEnhancerClient
from dashboard.models import Job

logger = logging.getLogger(__name__)

# What became of a cancelled job's API process, in the words the job page shows
# after "Cancelled by <person>".
UPSTREAM_NONE = "before it was sent to the Face Enhancer API."
UPSTREAM_STOPPED = "the Face Enhancer API stopped its process."
UPSTREAM_LATER = (
    "the Face Enhancer API can't be reached right now; it is told to stop the process "
    "as soon as it answers, and any result it still makes is not kept."
)
UPSTREAM_FINISHED = "the Face Enhancer API had already finished it; its result is not kept."
UPSTREAM_UNSUPPORTED = (
    "this Face Enhancer API cannot cancel a process, so it may still finish it; "
    "its result is not kept."
)


def refused(error: ApiError) -> str:
    return (
        f"the Face Enhancer API refused to stop its process ({error.message.rstrip('.')}); "
        "any result it still makes is not kept."
    )


@dataclass(frozen=True)
class JobCancelled:
    upstream: str  # one of the UPSTREAM_* sentences: what the API did with its process


def job_cancel(*, job: Job, by: str = "", tell_api_now: bool = True) -> JobCancelled | None:
    """Cancel an active job, and its API process (CancelFaceEnhancing); None if it had ended.

    The job is Cancelled here first, whatever the API says: a person's cancel
    never waits on an outage, and every later step (poll, webhook, download)
    acts only on active jobs, so a result that still arrives is ignored. A job
    not yet sent has no process to stop (a submission in flight is caught by
    job_submit). Otherwise the API is asked at once with short timeouts
    (`tell_api_now`, for a person waiting on the answer) or by a task; when it
    cannot be reached the task retries with backoff, so the API stops spending
    a worker on an image nobody wants and its process reads Cancelled too.
    """
    who = f"Cancelled by {by}" if by else "Cancelled"
    now = timezone.now()
    moved = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
        status=Job.Status.CANCELLED,
        error_message=f"{who}.",
        completed_at=now,
        updated_at=now,
    )
    if not moved:
        return None
    job.refresh_from_db()
    if job.process_id is None:
        upstream = UPSTREAM_NONE
    elif not tell_api_now:
        send_to_cancel_upstream(job.pk)
        upstream = UPSTREAM_LATER
    else:
        try:
            upstream = job_cancel_upstream(job_id=job.pk, client=cancel_client(job.team.connection))
        except ApiError:  # no answer, 5xx or 429: the task tries again with backoff
            send_to_cancel_upstream(job.pk)
            upstream = UPSTREAM_LATER
    _record_upstream(job.pk, who, upstream)
    job.refresh_from_db()
    return JobCancelled(upstream=upstream)


def job_cancel_upstream(
    *, job_id: uuid.UUID | str, client: FaceEnhancerClient | None = None
) -> str:
    """Ask the API to cancel a cancelled job's process; the UPSTREAM_* sentence of the answer.

    Raises ApiError only when asking again later may help (no answer, 5xx, 429).
    """
    job = (
        Job.objects.select_related("team__connection")
        .filter(pk=job_id, status=Job.Status.CANCELLED)
        .exclude(process_id=None)
        .first()
    )
    if job is None or job.process_id is None:
        return UPSTREAM_NONE
    client = client or connection_client(job.team.connection)
    try:
        client.cancel(user_id=job.user_guid, process_id=job.process_id)
    except ApiError as e:
        if e.status == 409:
            return UPSTREAM_FINISHED
        if e.status in (404, 405):  # gone, or an API without the operation (AdCreative's)
            return UPSTREAM_UNSUPPORTED
        if e.retryable:
            raise
        return refused(e)
    return UPSTREAM_STOPPED


def job_record_cancelled_upstream(*, job_id: uuid.UUID | str, upstream: str) -> None:
    """The task's answer, on the job page: replaces "it is told ... as soon as it answers"."""
    job = Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).first()
    if job is not None:
        _record_upstream(job.pk, _who(job.error_message), upstream)


def _who(message: str) -> str:
    """ "Cancelled by alice" out of the sentence _record_upstream wrote."""
    who = message.split(";", 1)[0].removesuffix(".").removesuffix(" " + UPSTREAM_NONE[:-1])
    return who if who.startswith("Cancelled") else "Cancelled"


def _record_upstream(job_id: uuid.UUID, who: str, upstream: str) -> None:
    sentence = f"{who} {upstream}" if upstream == UPSTREAM_NONE else f"{who}; {upstream}"
    Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).update(
        error_message=sentence[:2000], updated_at=timezone.now()
    )


def send_to_cancel_upstream(job_id: uuid.UUID) -> None:
    try:
        enqueue.job_cancel_upstream(str(job_id))
    except Exception as e:
        # The job is cancelled here all the same; what the API still makes is ignored.
        logger.warning("job %s: telling the API to cancel could not be queued (%s)", job_id, e)
