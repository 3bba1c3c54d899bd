"""The periodic sweeper: no job is stuck silently."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Job
from dashboard.services import jobs_sweep
from tests.dashboard.factories import job_for, member_of, team_for


@pytest.fixture
def membership(alice):
    return member_of(team_for(alice))


@pytest.fixture
def sent(monkeypatch) -> dict[str, list[str]]:
    """What the sweeper enqueued, per task."""
    calls: dict[str, list[str]] = {"submit": [], "poll": [], "download": []}
    for name in calls:
        monkeypatch.setattr(f"dashboard.enqueue.job_{name}", calls[name].append)
    return calls


def _age(job: Job, seconds: float, *, created: float | None = None) -> None:
    now = timezone.now()
    changes = {"updated_at": now - timedelta(seconds=seconds)}
    if created is not None:
        changes["created_at"] = now - timedelta(seconds=created)
    Job.objects.filter(pk=job.pk).update(**changes)


def test_stale_jobs_are_driven_again_by_their_step(membership, sent, settings):
    pending = job_for(membership)
    polling = job_for(membership, status=Job.Status.PROCESSING, process_id=uuid.uuid4())
    downloading = job_for(membership, status=Job.Status.DOWNLOADING, process_id=uuid.uuid4())
    for job in (pending, polling, downloading):
        _age(job, settings.DASHBOARD_STALE_AFTER + 5)

    report = jobs_sweep()

    assert (report.resubmitted, report.repolled, report.redownloaded) == (1, 1, 1)
    assert sent == {
        "submit": [str(pending.pk)],
        "poll": [str(polling.pk)],
        "download": [str(downloading.pk)],
    }
    polling.refresh_from_db()
    assert polling.attempts == 1


def test_fresh_and_finished_jobs_are_left_alone(membership, sent, settings):
    job_for(membership, status=Job.Status.PROCESSING, process_id=uuid.uuid4())
    done = job_for(membership, status=Job.Status.COMPLETED)
    _age(done, settings.DASHBOARD_STALE_AFTER * 10)

    assert jobs_sweep().__dict__ == {
        "resubmitted": 0,
        "repolled": 0,
        "redownloaded": 0,
        "failed": 0,
    }
    assert sent == {"submit": [], "poll": [], "download": []}


def test_a_job_that_keeps_coming_back_fails_with_the_reason(membership, sent, settings):
    job = job_for(
        membership,
        status=Job.Status.PROCESSING,
        process_id=uuid.uuid4(),
        attempts=settings.DASHBOARD_MAX_ATTEMPTS,
    )
    _age(job, settings.DASHBOARD_STALE_AFTER + 5)

    assert jobs_sweep().failed == 1

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert f"tried {settings.DASHBOARD_MAX_ATTEMPTS} times" in job.error_message
    assert sent["poll"] == []


def test_a_job_past_the_time_limit_fails(membership, sent, settings):
    job = job_for(membership, status=Job.Status.SUBMITTED, process_id=uuid.uuid4())
    _age(job, settings.DASHBOARD_STALE_AFTER + 5, created=settings.DASHBOARD_JOB_TIMEOUT + 5)

    jobs_sweep()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "time limit" in job.error_message
