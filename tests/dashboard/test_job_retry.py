"""Retrying a failed job: a new upstream process, however often its submission is sent.

The submissions run in this process against the API served by the live server
(real HTTP); the enhancement's message to the broker is only recorded.
"""

from __future__ import annotations

import pytest

from dashboard import services, tasks
from dashboard.models import Job
from enhancer.models import FaceEnhancerProcess
from enhancer.tasks import process_enhance
from tests.dashboard.factories import job_for, member_of, team_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def membership(alice, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DASHBOARD_PUBLIC_URL = live_server.url
    return member_of(team_for(alice, base_url=live_server.url))


@pytest.fixture
def enqueued(monkeypatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr(process_enhance, "apply_async", lambda args, queue: sent.append(args[0]))
    # The retry's own submission message: recorded, so that no worker of the run takes it.
    monkeypatch.setattr(tasks.job_submit_task, "delay", lambda job_id: sent.append(f"job {job_id}"))
    return sent


def _process_of(job: Job) -> str:
    job.refresh_from_db()
    return str(job.process_id)


def test_a_retried_job_gets_one_new_process_however_often_it_is_submitted(
    membership, alice, enqueued
):
    job = job_for(membership)
    assert services.job_submit(job_id=job.pk)
    first = _process_of(job)
    services.job_fail(job_id=job.pk, message="The API failed it.")

    assert services.job_retry(job=Job.objects.get(pk=job.pk))
    assert enqueued == [first, f"job {job.pk}"]
    # The retry's submission, and the same one again (a redelivered task, the
    # sweeper after a broker restart), as the workers would run them.
    assert services.job_submit(job_id=job.pk)
    second = _process_of(job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PENDING)
    assert services.job_submit(job_id=job.pk)

    assert second != first
    assert _process_of(job) == second
    processes = FaceEnhancerProcess.objects.filter(application=alice.application)
    assert sorted(str(p) for p in processes.values_list("pk", flat=True)) == sorted([first, second])
    assert enqueued == [first, f"job {job.pk}", second]
