"""My jobs: the member's own jobs, newest first, with status, progress and thumbnails."""

# Fixtures come from tests/dashboard/pages.py: test arguments shadow their imports.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import Job, Membership
from tests.dashboard.factories import job_for
from tests.dashboard.pages import member, member_client, outsider, team  # noqa: F401 - fixtures

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


def test_other_members_and_other_teams_jobs_are_not_listed(member_client, member, outsider):
    teammate = Membership.objects.create(
        team=member.team,
        user=type(member.user).objects.create_user("dave", password="pw-dave-123"),
    )
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
