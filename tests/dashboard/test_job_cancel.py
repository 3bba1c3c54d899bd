"""Cancel: the job here at once, its process at the API through CancelFaceEnhancing.

The dashboard talks to the API served by the live server over real HTTP; the
API's messages to its `enhance` queue are only recorded (enhancements_sent),
so a process stays Queued until the test moves it.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboard import cancellation, job_steps, services, tasks
from dashboard.client import FaceEnhancerClient
from dashboard.models import Job
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState, RenderTask
from enhancer.processing.messages import CANCELLED_MESSAGE
from enhancer.processing.stop import process_cancel
from enhancer.processing.tasks import process_enhance
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)

NOT_READY = "appears here when it is ready"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the Team page caches the API's answer for a few seconds


@pytest.fixture
def cancels_queued(monkeypatch) -> list[str]:
    """Jobs whose cancel was handed to the task, recorded instead of sent to a broker."""
    queued: list[str] = []
    monkeypatch.setattr("dashboard.enqueue.job_cancel_upstream", queued.append)
    return queued


@pytest.fixture
def member_client(client, live_api_membership):
    client.force_login(live_api_membership.user)
    return client


def _sent(membership, name: str = "photo.jpg") -> Job:
    """A job submitted to the live API: its process is Queued there."""
    job = job_for(membership, name)
    assert job_steps.job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUBMITTED
    return job


def _cancel(client, job: Job) -> str:
    response = client.post(reverse("dashboard:job-cancel", args=[job.pk]), follow=True)
    assert response.status_code == 200
    job.refresh_from_db()
    return response.content.decode()


def _process(job: Job) -> FaceEnhancerProcess:
    return FaceEnhancerProcess.objects.get(pk=job.process_id)


def test_cancel_stops_the_process_at_the_api_and_every_page_says_cancelled(
    live_api_membership, member_client, enhancements_sent
):
    job = _sent(live_api_membership)

    page = _cancel(member_client, job)

    stopped = f"Cancelled by alice; {cancellation.UPSTREAM_STOPPED}"
    assert job.status == Job.Status.CANCELLED
    assert job.error_message == stopped
    assert "photo.jpg is cancelled." in page  # the message after the redirect
    assert "<h2>Cancelled</h2>" in page and f"{stopped} Retry" in page
    assert NOT_READY not in page and "not yet known" not in page
    assert ">Cancel</button>" not in page and ">Retry</button>" in page
    # The API's process is Cancelled, and the worker that gets its message does nothing.
    assert _process(job).status == ProcessStatus.CANCELLED
    assert process_enhance.apply(args=[enhancements_sent[0]]).get() == "finished"
    assert _process(job).status == ProcessStatus.CANCELLED

    my_jobs = member_client.get(reverse("dashboard:jobs")).content.decode()
    card = my_jobs[my_jobs.index('data-job-name="photo.jpg"') :]
    assert 'data-job-label="Cancelled"' in card[:300]
    team = member_client.get(reverse("dashboard:team")).content.decode()
    assert f'href="{reverse("dashboard:job", args=[job.pk])}">photo.jpg</a>' in team
    assert '<span class="badge badge-cancelled">Cancelled</span>' in team
    assert "Other client" not in team


def test_a_job_not_yet_sent_is_cancelled_here_and_never_sent(
    live_api_membership, member_client, enhancements_sent
):
    job = job_for(live_api_membership)

    _cancel(member_client, job)

    assert job.status == Job.Status.CANCELLED
    assert job.error_message == f"Cancelled by alice {cancellation.UPSTREAM_NONE}"
    # Its submission, still queued, finds it cancelled and sends nothing.
    assert job_steps.job_submit(job_id=job.pk) is False
    assert not FaceEnhancerProcess.objects.exists()
    assert enhancements_sent == []


def test_a_cancel_while_the_upload_is_on_its_way_cancels_the_process_it_started(
    live_api_membership, enhancements_sent, monkeypatch
):
    job = job_for(live_api_membership)
    start = FaceEnhancerClient.start

    def start_then_cancel(self, **kwargs):
        body = start(self, **kwargs)
        assert cancellation.job_cancel(job=Job.objects.get(pk=job.pk), by="alice")
        return body

    monkeypatch.setattr(FaceEnhancerClient, "start", start_then_cancel)
    monkeypatch.setattr(
        "dashboard.enqueue.job_cancel_upstream",
        lambda job_id: tasks.job_cancel_upstream_task.apply(args=[job_id]),
    )

    assert job_steps.job_submit(job_id=job.pk) is False

    job.refresh_from_db()
    process = FaceEnhancerProcess.objects.get()
    # Linked to the job (so never "another client's" on the Team page), and cancelled there.
    assert job.process_id == process.pk
    assert process.status == ProcessStatus.CANCELLED
    assert job.status == Job.Status.CANCELLED
    assert job.error_message == f"Cancelled by alice; {cancellation.UPSTREAM_STOPPED}"


def test_with_the_api_unreachable_the_job_is_cancelled_here_and_a_task_tells_the_api_later(
    live_api_membership, member_client, enhancements_sent, cancels_queued, live_server
):
    job = _sent(live_api_membership)
    connection = live_api_membership.team.connection
    connection.base_url = "http://127.0.0.1:9"  # nothing listens there
    connection.save()

    page = _cancel(member_client, job)

    assert job.status == Job.Status.CANCELLED
    assert job.error_message == f"Cancelled by alice; {cancellation.UPSTREAM_LATER}"
    assert "can&#x27;t be reached right now" in page and NOT_READY not in page
    assert cancels_queued == [str(job.pk)]
    assert _process(job).status == ProcessStatus.QUEUED

    # The API is back; the task runs.
    connection.base_url = live_server.url
    connection.save()
    tasks.job_cancel_upstream_task.apply(args=cancels_queued)

    job.refresh_from_db()
    assert _process(job).status == ProcessStatus.CANCELLED
    assert job.error_message == f"Cancelled by alice; {cancellation.UPSTREAM_STOPPED}"


def test_a_process_the_api_had_finished_is_left_and_its_result_ignored(
    live_api_membership, member_client, enhancements_sent
):
    job = _sent(live_api_membership)
    FaceEnhancerProcess.objects.filter(pk=job.process_id).update(
        status=ProcessStatus.COMPLETED, progress=100
    )
    RenderTask.objects.filter(process_id=job.process_id).update(render_state=RenderState.COMPLETED)

    _cancel(member_client, job)

    assert job.status == Job.Status.CANCELLED
    assert job.error_message == f"Cancelled by alice; {cancellation.UPSTREAM_FINISHED}"
    assert _process(job).status == ProcessStatus.COMPLETED  # the API's 409 changed nothing
    # A poll still on its way downloads nothing.
    assert job_steps.job_poll(job_id=job.pk).download is False
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and not job.result


def test_a_cancelled_job_can_be_retried_as_a_new_process(
    live_api_membership, member_client, enhancements_sent, monkeypatch
):
    monkeypatch.setattr("dashboard.enqueue.job_submit", lambda job_id: None)
    job = _sent(live_api_membership)
    _cancel(member_client, job)
    first = job.process_id

    assert services.job_retry(job=job)
    assert job_steps.job_submit(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUBMITTED and job.error_message == ""
    assert job.process_id != first
    assert FaceEnhancerProcess.objects.get(pk=first).status == ProcessStatus.CANCELLED
    assert _process(job).status == ProcessStatus.QUEUED
    # The Team page shows both processes as this job's: the cancelled one is
    # not "another client's" beside the retried copy.
    team = member_client.get(reverse("dashboard:team")).content.decode()
    link = f'href="{reverse("dashboard:job", args=[job.pk])}">photo.jpg</a>'
    assert team.count(link) == 2
    assert '<span class="badge badge-cancelled">Cancelled</span>' in team
    assert '<span class="badge badge-submitted">Queued</span>' in team
    assert "Other client" not in team


def test_a_process_cancelled_by_another_client_cancels_the_job_at_the_next_poll(
    live_api_membership, enhancements_sent, monkeypatch
):
    job = _sent(live_api_membership)
    # The poll's answer only: no webhook message racing it (a worker left running
    # by another test of the run would deliver one to the live server's receiver).
    monkeypatch.setattr("enhancer.processing.stop.publish", lambda *args, **kwargs: None)
    process_cancel(process=_process(job))

    outcome = job_steps.job_poll(job_id=job.pk)

    assert outcome.done and not outcome.download
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.error_message == (f"Cancelled at the Face Enhancer API: {CANCELLED_MESSAGE}")


def test_the_admins_cancel_leaves_telling_the_api_to_a_task(
    live_api_membership, enhancements_sent, cancels_queued, admin_client
):
    job = _sent(live_api_membership)

    admin_client.post(
        reverse("admin:dashboard_job_changelist"),
        {"action": "cancel_jobs", "_selected_action": [job.pk]},
    )

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.error_message == f"Cancelled by admin; {cancellation.UPSTREAM_LATER}"
    assert cancels_queued == [str(job.pk)]
    tasks.job_cancel_upstream_task.apply(args=cancels_queued)
    assert _process(job).status == ProcessStatus.CANCELLED


@pytest.mark.parametrize("width", [1280, 390])
def test_in_the_browser_cancel_on_a_queued_job_reads_cancelled(
    chromium, live_server, live_api_membership, enhancements_sent, width
):
    from playwright.sync_api import expect

    job = _sent(live_api_membership, "queued.jpg")
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/jobs/{job.pk}/")
        expect(page.locator(".page-head .badge")).to_have_text("Queued")
        page.get_by_role("button", name="Cancel").click()

        expect(page.locator(".page-head .badge")).to_have_text("Cancelled")
        expect(page.get_by_role("heading", name="Cancelled")).to_be_visible()
        expect(page.get_by_text("the Face Enhancer API stopped its process").first).to_be_visible()
        expect(page.get_by_text(NOT_READY)).to_have_count(0)
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
        screenshot(page, f"job-cancelled-{width}")
    finally:
        page.close()
    assert _process(job).status == ProcessStatus.CANCELLED
