"""The job page: comparison, faces, parameters, downloads, retry and cancel."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def test_a_completed_job_shows_the_comparison_faces_parameters_and_downloads(member_client, member):
    job = job_for(
        member, "portrait.jpg", done=True, faces_detected=3, faces_enhanced=2, aria_ratio=0.3
    )

    html = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()

    original = reverse("dashboard:job-file", args=[job.pk, "original"])
    result = reverse("dashboard:job-file", args=[job.pk, "result"])
    preview = reverse("dashboard:job-file", args=[job.pk, "preview"])
    assert f'class="compare-before" src="{original}"' in html
    assert f'class="compare-after" src="{result}"' in html
    assert 'type="range" class="compare-range"' in html and "aria-label=" in html
    assert f'href="{result}?download=1"' in html and f'href="{preview}?download=1"' in html
    assert "<dt>Faces detected</dt><dd>3</dd>" in html
    assert "<dt>Faces enhanced</dt><dd>2</dd>" in html
    assert "0.30" in html and "(ariaRatio)" in html
    assert "Retry" not in html and ">Cancel<" not in html


def test_an_active_job_can_be_cancelled(member_client, member):
    job = job_for(member, status=Job.Status.PROCESSING, progress=30)

    html = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert reverse("dashboard:job-cancel", args=[job.pk]) in html
    assert "compare-range" not in html

    response = member_client.post(reverse("dashboard:job-cancel", args=[job.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    html = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "photo.jpg is cancelled." in html
    assert "<h2>Cancelled</h2>" in html
    # A cancelled job promises no result.
    assert "appears here when it is ready" not in html


def test_a_failed_job_shows_why_and_can_be_retried(
    member_client, member, django_capture_on_commit_callbacks, submitted
):
    job = job_for(member, status=Job.Status.FAILED, error_message="ariaRatio: out of range.")

    html = member_client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "ariaRatio: out of range." in html
    assert reverse("dashboard:job-retry", args=[job.pk]) in html

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("dashboard:job-retry", args=[job.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING and job.error_message == ""
    assert submitted == [(str(job.pk),)]
    html = member_client.get(response["Location"]).content.decode()
    assert "photo.jpg is being sent again." in html


def test_retry_and_cancel_are_posts(member_client, member, submitted):
    job = job_for(member, status=Job.Status.FAILED)

    for action in ("dashboard:job-retry", "dashboard:job-cancel"):
        response = member_client.get(reverse(action, args=[job.pk]))
        assert response.status_code == 405 and response["Allow"] == "POST"

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and submitted == []


def test_a_teammate_may_follow_the_job(client, member, teammate):
    job = job_for(member, status=Job.Status.PROCESSING, progress=30)
    client.force_login(teammate.user)

    response = client.get(reverse("dashboard:job", args=[job.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "photo.jpg" in html and 'value="30"' in html
    assert reverse("dashboard:job-file", args=[job.pk, "original"]) in html


def test_another_teams_job_is_not_found(client, member, outsider):
    job = job_for(member)
    client.force_login(outsider.user)

    assert client.get(reverse("dashboard:job", args=[job.pk])).status_code == 404
    assert client.post(reverse("dashboard:job-cancel", args=[job.pk])).status_code == 404
    assert client.get(reverse("dashboard:job", args=[uuid.uuid4()])).status_code == 404
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING
