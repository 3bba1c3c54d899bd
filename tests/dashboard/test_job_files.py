"""The files of a job: served through views, only to members of the job's team."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def is_the_not_found_page(response) -> bool:
    """The dashboard's own 404 page, and none of the job's bytes."""
    return (
        response.status_code == 404
        and response["Content-Type"].startswith("text/html")
        and b"This page doesn't exist" in response.content
    )


def test_images_are_served_inline_with_their_real_content_type(member_client, member):
    job = job_for(member, "portrait.jpg", done=True)

    original = member_client.get(reverse("dashboard:job-file", args=[job.pk, "original"]))
    result = member_client.get(reverse("dashboard:job-file", args=[job.pk, "result"]))

    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"
    assert result["Content-Type"] == "image/png"  # sniffed from the bytes, not the name
    assert result["Content-Disposition"].startswith("inline")
    assert "private" in result["Cache-Control"]
    assert Image.open(io.BytesIO(body(result))).size == (64, 48)


def test_downloads_are_attachments_named_after_the_upload(member_client, member):
    job = job_for(member, "portrait.jpg", done=True)

    full = member_client.get(reverse("dashboard:job-file", args=[job.pk, "result"]) + "?download=1")
    low = member_client.get(reverse("dashboard:job-file", args=[job.pk, "preview"]) + "?download=1")

    assert full["Content-Disposition"] == 'attachment; filename="portrait-enhanced.png"'
    assert low["Content-Disposition"] == 'attachment; filename="portrait-enhanced-low-res.jpg"'
    assert low["Content-Type"] == "image/jpeg"


def test_another_team_gets_nothing(client, member, outsider):
    job = job_for(member, done=True)
    client.force_login(outsider.user)

    for kind in ("original", "result", "preview"):
        assert is_the_not_found_page(client.get(reverse("dashboard:job-file", args=[job.pk, kind])))


def test_strangers_are_sent_to_log_in(client, member):
    job = job_for(member, done=True)

    response = client.get(reverse("dashboard:job-file", args=[job.pk, "result"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_a_result_that_does_not_exist_yet_is_not_found(member_client, member):
    job = job_for(member)

    for kind in ("result", "secret"):
        response = member_client.get(reverse("dashboard:job-file", args=[job.pk, kind]))
        assert is_the_not_found_page(response)


def test_staff_may_see_every_teams_files_for_the_admins_thumbnails(member, admin_client):
    job = job_for(member, done=True)

    response = admin_client.get(reverse("dashboard:job-file", args=[job.pk, "preview"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with job.preview.open("rb") as stored:
        assert body(response) == stored.read()


def test_media_files_have_no_public_url(member_client, member):
    job = job_for(member, done=True)

    response = member_client.get("/media/" + job.result.name)

    assert is_the_not_found_page(response)
    assert job.result.storage.exists(job.result.name)  # stored, but not served from there
