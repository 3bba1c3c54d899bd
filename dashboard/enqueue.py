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
    _send(JOB_SUBMIT, job_id)


def job_poll(job_id: str, *, round: int = 0, countdown: float = 0.0) -> None:
    """Poll the job's process, `round` polls after the first (the task backs off by it)."""
    _send(JOB_POLL, job_id, round, countdown=countdown)


def job_download(job_id: str) -> None:
    _send(JOB_DOWNLOAD, job_id)


def job_cancel_upstream(job_id: str) -> None:
    _send(JOB_CANCEL_UPSTREAM, job_id)


def _send(name: str, *args: object, countdown: float = 0.0) -> None:
    # As the API's enqueue modules do (enhancer.processing.enqueue): no result is
    # read, so send_task must not subscribe the sender to the result backend. The
    # web process has not imported dashboard.tasks, so a signature by name falls
    # back to send_task without the tasks' options and would subscribe on every upload.
    current_app.send_task(name, args=list(args), countdown=countdown or None, ignore_result=True)
