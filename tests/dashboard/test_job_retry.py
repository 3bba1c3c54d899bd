"""Retrying a failed job: a new upstream process, however often its submission is sent.

The submissions run in this process against the API served by the live server
(real HTTP); the enhancement's message to the broker is only recorded.
"""

from __future__ import annotations

import pytest

from dashboard import job_steps, services
from dashboard.models import Job
from enhancer.models import FaceEnhancerProcess
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(enhancements_sent, monkeypatch) -> list[str]:
    """What the API enhances, and the dashboard's own submissions, both recorded."""
    monkeypatch.setattr(
        "dashboard.enqueue.job_submit", lambda job_id: enhancements_sent.append(f"job {job_id}")
    )
    return enhancements_sent


def _process_of(job: Job) -> str:
    job.refresh_from_db()
    return str(job.process_id)


def test_a_retried_job_gets_one_new_process_however_often_it_is_submitted(
    live_api_membership, alice, enqueued
):
    job = job_for(live_api_membership)
    assert job_steps.job_submit(job_id=job.pk)
    first = _process_of(job)
    services.job_fail(job_id=job.pk, message="The API failed it.")

    assert services.job_retry(job=Job.objects.get(pk=job.pk))
    assert enqueued == [first, f"job {job.pk}"]
    # The retry's submission, and the same one again (a redelivered task, the
    # sweeper after a broker restart), as the workers would run them.
    assert job_steps.job_submit(job_id=job.pk)
    second = _process_of(job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PENDING)
    assert job_steps.job_submit(job_id=job.pk)

    assert second != first
    assert _process_of(job) == second
    processes = FaceEnhancerProcess.objects.filter(application=alice.application)
    assert sorted(str(p) for p in processes.values_list("pk", flat=True)) == sorted([first, second])
    assert enqueued == [first, f"job {job.pk}", second]
