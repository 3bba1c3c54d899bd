"""The dashboard's tasks retry what the API may answer later, as declared on them.

The tasks run eagerly here (`apply`): a retry runs at once, its countdown is
not waited. The API's answers are scripted by replacing the step the task calls.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from dashboard import cancellation, job_steps, services, tasks
from dashboard.client import ApiError, RetryableApiError
from dashboard.models import Job
from tests.dashboard.factories import job_for, member_of, team_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership(alice):
    return member_of(team_for(alice))


def _answers(*answers: object):
    """A step that raises (or returns) each answer in turn, and the calls it got."""
    calls: list[object] = []

    def step(*, job_id: object) -> object:
        calls.append(job_id)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return step, calls


def test_a_poll_the_api_keeps_failing_fails_the_job_once_its_retries_run_out(
    membership, monkeypatch
):
    job = job_for(membership, status=Job.Status.PROCESSING, process_id=uuid.uuid4())
    step, calls = _answers(RetryableApiError(502, "Bad gateway"))
    monkeypatch.setattr(job_steps, "job_poll", step)
    monkeypatch.setattr(tasks.job_poll_task, "max_retries", 2)

    tasks.job_poll_task.apply(args=[str(job.pk)])

    assert len(calls) == 3  # the first try and two retries
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error_message == "The Face Enhancer API kept failing: Bad gateway."


def test_an_answer_that_will_not_change_fails_the_job_at_once(membership, monkeypatch):
    job = job_for(membership, status=Job.Status.PROCESSING, process_id=uuid.uuid4())
    step, calls = _answers(ApiError(400, "The process is not yours"))
    monkeypatch.setattr(job_steps, "job_poll", step)

    tasks.job_poll_task.apply(args=[str(job.pk)])

    assert len(calls) == 1
    job.refresh_from_db()
    assert (job.status, job.error_message) == (Job.Status.FAILED, "The process is not yours.")


def test_a_submission_waits_for_the_apis_queue_beyond_the_retry_limit(membership, monkeypatch):
    job = job_for(membership)
    down = RetryableApiError(503, "The queue is down", retry_after=30)
    step, calls = _answers(down, down, down, False)
    monkeypatch.setattr(job_steps, "job_submit", step)
    monkeypatch.setattr(tasks.job_submit_task, "max_retries", 1)

    tasks.job_submit_task.apply(args=[str(job.pk)])

    assert len(calls) == 4  # three waits, past a limit of one retry, then sent
    job.refresh_from_db()
    assert (job.status, job.error_message) == (Job.Status.WAITING, services.API_QUEUE_DOWN)


def test_telling_the_api_to_cancel_gives_up_with_a_warning(membership, monkeypatch, caplog):
    job = job_for(membership, status=Job.Status.CANCELLED, process_id=uuid.uuid4())
    step, calls = _answers(RetryableApiError(500, "Internal error"))
    monkeypatch.setattr(cancellation, "job_cancel_upstream", step)
    monkeypatch.setattr(tasks.job_cancel_upstream_task, "max_retries", 1)

    with caplog.at_level(logging.WARNING, logger="dashboard.tasks"):
        tasks.job_cancel_upstream_task.apply(args=[str(job.pk)])

    assert len(calls) == 2
    assert f"job {job.pk}: the API was not told to cancel its process" in caplog.text
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
