"""The dashboard's one way to enqueue its tasks: by name, so that no module imports
dashboard.tasks back (only Celery's autodiscovery does).

The names are the tasks' own (dashboard/tasks.py); the queue is chosen by the
Celery app's routes, never here. Callers that run inside a transaction call
these from `transaction.on_commit`, so a worker never looks for a row that is
not committed yet.
"""

from __future__ import annotations

from celery import current_app

JOB_SUBMIT = "dashboard.job_submit"
JOB_POLL = "dashboard.job_poll"
JOB_DOWNLOAD = "dashboard.job_download"
JOB_CANCEL_UPSTREAM = "dashboard.job_cancel_upstream"


def job_submit(job_id: str) -> None:
    current_app.signature(JOB_SUBMIT, args=(job_id,)).delay()


def job_poll(job_id: str, *, round: int = 0, countdown: float = 0.0) -> None:
    """Poll the job's process, `round` polls after the first (the task backs off by it)."""
    current_app.signature(JOB_POLL, args=(job_id, round)).apply_async(countdown=countdown)


def job_download(job_id: str) -> None:
    current_app.signature(JOB_DOWNLOAD, args=(job_id,)).delay()


def job_cancel_upstream(job_id: str) -> None:
    current_app.signature(JOB_CANCEL_UPSTREAM, args=(job_id,)).delay()
