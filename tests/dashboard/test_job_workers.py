"""The dashboard's workers, for real: a job goes through the API over HTTP.

A real `celery worker` process runs both the dashboard's tasks (submit,
poll, download) and the API's enhancement, against the API served by the
live server; nothing is mocked.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from skimage import data

from dashboard.models import Job
from dashboard.services import job_create
from enhancer.notifications.models import NotificationChannel
from tests.conftest import wait_until
from tests.dashboard.factories import member_of, team_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _portrait_jpeg(size: int = 256) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((size, size)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status in (Job.Status.COMPLETED, Job.Status.FAILED) else None


@pytest.fixture
def membership(alice, live_server):
    return member_of(team_for(alice, base_url=live_server.url))


def test_an_upload_comes_back_enhanced_into_media_storage(celery_worker_process, membership):
    job = job_create(
        membership=membership,
        image=ContentFile(_portrait_jpeg(256)),
        filename="astronaut.jpg",
        aria_ratio=0.5,
        max_face_count=10,
    )

    job = wait_until(lambda: _finished(job), timeout=180, what="the job to finish")

    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.progress == 100
    assert (job.faces_detected, job.faces_enhanced) == (1, 1)
    with job.result.open("rb") as f:
        result = Image.open(f)
        result.load()
    assert (result.format, result.size) == ("JPEG", (256, 256))
    with job.preview.open("rb") as f:
        preview = Image.open(f)
        preview.load()
    assert preview.format == "JPEG" and max(preview.size) <= 512
    # The connection registered its webhook channel on the way.
    connection = membership.team.connection
    connection.refresh_from_db()
    assert connection.notification_channel_id is not None
    assert NotificationChannel.objects.filter(
        pk=connection.notification_channel_id, is_active=True
    ).exists()


def test_an_api_refusal_fails_the_job_with_the_api_message(celery_worker_process, membership):
    job = job_create(
        membership=membership,
        image=ContentFile(_portrait_jpeg(64)),
        filename="small.jpg",
        aria_ratio=0.5,
        max_face_count=10_000,  # above the API's cap: a 400 naming maxFaceCount
    )

    job = wait_until(lambda: _finished(job), timeout=60, what="the job to fail")

    assert job.status == Job.Status.FAILED
    assert "maxFaceCount" in job.error_message
