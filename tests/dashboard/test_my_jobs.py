"""My jobs: the member's own jobs, newest first, with status, progress and thumbnails."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import job_steps
from dashboard.client import FaceEnhancerClient
from dashboard.models import Job
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def test_an_empty_list_invites_an_upload(member_client):
    response = member_client.get(reverse("dashboard:jobs"))

    assert response.status_code == 200
    assert b"No images yet" in response.content
    assert reverse("dashboard:upload").encode() in response.content


def test_the_members_jobs_newest_first_with_status_and_progress(member_client, member):
    old = job_for(member, "old.jpg", done=True)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    job_for(member, "new.jpg", status=Job.Status.PROCESSING, progress=40)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert html.index("new.jpg") < html.index("old.jpg")
    assert 'value="40"' in html and "Enhancing" in html
    assert "Done" in html
    # Only finished jobs can be picked for the ZIP.
    assert html.count('name="jobs"') == 1


def test_other_members_and_other_teams_jobs_are_not_listed(
    member_client, member, teammate, outsider
):
    job_for(teammate, "daves.jpg")
    job_for(outsider, "bobs.jpg")
    job_for(member, "mine.jpg")

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert "mine.jpg" in html
    assert "daves.jpg" not in html and "bobs.jpg" not in html


def test_thumbnails_are_previews_once_done_and_served_through_views(member_client, member):
    job = job_for(member, done=True)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert reverse("dashboard:job-file", args=[job.pk, "preview"]) in html
    assert "/media/" not in html


def test_a_failed_job_shows_its_reason(member_client, member):
    job_for(member, status=Job.Status.FAILED, error_message="No face was found in the image.")

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert "No face was found in the image." in html


def _api_answers(monkeypatch, job: Job, **process: object) -> None:
    body = {
        "items": [
            {
                "imageFaceEnhancerProcessId": str(job.process_id),
                "renderTasks": [{"taskId": str(uuid.uuid4()), "renderState": 1}],
                **process,
            }
        ]
    }
    monkeypatch.setattr(FaceEnhancerClient, "check_user_progress", lambda self, **query: body)


def test_a_job_still_in_the_apis_queue_shows_queued_not_enhancing(
    member_client, member, monkeypatch
):
    job = job_for(member, "in-line.jpg", status=Job.Status.SUBMITTED, process_id=uuid.uuid4())
    _api_answers(monkeypatch, job, status="Queued", progress=0)

    job_steps.job_poll(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUBMITTED
    html = member_client.get(reverse("dashboard:jobs")).content.decode()
    card = html[html.index('class="job-card"') :]
    assert '<span class="badge badge-submitted">Queued</span>' in card
    assert "Enhancing" not in card and "0%" not in card
    page = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "Queued at the Face Enhancer API" in page
    assert "Finding and enhancing faces" not in page and "Enhancing" not in page

    # A worker takes it: now it is enhancing, with its progress.
    _api_answers(monkeypatch, job, status="Processing", progress=30)
    job_steps.job_poll(job_id=job.pk)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()
    assert '<span class="badge badge-processing">Enhancing</span>' in html
    assert 'value="30"' in html
    page = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "Finding and enhancing faces" in page


def test_a_finished_job_without_a_face_says_so(member_client, member):
    job = job_for(member, "landscape.jpg", done=True, faces_detected=0, faces_enhanced=0)
    job_for(member, "portrait.jpg", done=True, faces_detected=1, faces_enhanced=1)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    landscape = html[html.index('data-job-name="landscape.jpg"') :]
    landscape = landscape[: landscape.index("</li>")]
    assert 'data-job-label="No face found"' in landscape
    assert '<span class="badge badge-no-face">No face found</span>' in landscape
    assert ">Done<" not in landscape
    assert "1 face enhanced" in html  # the portrait is a plain Done
    page = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "<h2>No face found</h2>" in page
    assert "nothing was enhanced" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_in_the_browser_each_job_reads_as_what_it_is(chromium, live_server, member, width):
    from playwright.sync_api import expect

    queued = job_for(member, "in-line.jpg", status=Job.Status.SUBMITTED, process_id=uuid.uuid4())
    job_for(member, "running.jpg", status=Job.Status.PROCESSING, progress=40)
    job_for(member, "landscape.jpg", done=True, faces_detected=0, faces_enhanced=0)
    job_for(member, "portrait.jpg", done=True, faces_detected=1, faces_enhanced=1)
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url)
        expect(page.get_by_role("heading", name="My jobs")).to_be_visible()

        def card(name: str):
            return page.locator(".job-card").filter(has_text=name)

        expect(card("in-line.jpg").locator(".badge")).to_have_text("Queued")
        expect(card("in-line.jpg").locator("progress")).to_have_count(0)
        expect(card("running.jpg").locator(".badge")).to_have_text("Enhancing")
        expect(card("running.jpg").locator("progress")).to_have_attribute("value", "40")
        expect(card("landscape.jpg").locator(".badge")).to_have_text("No face found")
        expect(card("portrait.jpg").locator(".badge")).to_have_text("Done")
        screenshot(page, f"my-jobs-states-{width}")

        page.goto(f"{live_server.url}/jobs/{queued.pk}/")
        expect(page.get_by_text("Queued at the Face Enhancer API")).to_be_visible()
        expect(page.get_by_text("Finding and enhancing faces")).to_have_count(0)
        screenshot(page, f"job-queued-{width}", full_page=False)
    finally:
        page.close()
