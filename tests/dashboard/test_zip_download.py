"""A ZIP of the selected completed results, only of the member's team."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def zip_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_selected_results_come_in_one_zip(member_client, member):
    a = job_for(member, "a.jpg", done=True)
    b = job_for(member, "b.jpg", done=True)
    job_for(member, "c.jpg", done=True)  # not selected

    response = member_client.post(reverse("dashboard:jobs-zip"), {"jobs": [a.pk, b.pk]})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="enhanced-')
    archive = zip_of(response)
    assert sorted(archive.namelist()) == ["a-enhanced.png", "b-enhanced.png"]
    assert archive.read("a-enhanced.png") == a.result.open("rb").read()


def test_same_names_do_not_overwrite_each_other(member_client, member):
    ids = [job_for(member, "same.jpg", done=True).pk for _ in range(2)]

    archive = zip_of(member_client.post(reverse("dashboard:jobs-zip"), {"jobs": ids}))

    assert sorted(archive.namelist()) == ["same-enhanced (2).png", "same-enhanced.png"]


def test_unfinished_and_other_teams_jobs_are_left_out(member_client, member, outsider):
    mine = job_for(member, "mine.jpg", done=True)
    running = job_for(member, "running.jpg", status=Job.Status.PROCESSING)
    theirs = job_for(outsider, "theirs.jpg", done=True)

    response = member_client.post(
        reverse("dashboard:jobs-zip"), {"jobs": [mine.pk, running.pk, theirs.pk, "not-a-uuid"]}
    )

    assert zip_of(response).namelist() == ["mine-enhanced.png"]


def test_nothing_selected_goes_back_with_a_message(member_client, member):
    response = member_client.post(reverse("dashboard:jobs-zip"), {}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard:jobs")
    assert b"Select at least one finished image" in response.content
