"""A notice on My jobs when the batch of photos one uploaded is done."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import Job
from tests.dashboard.factories import image_bytes, job_for

pytestmark = pytest.mark.django_db


def test_the_upload_page_puts_one_submissions_files_in_one_batch(member_client, submitted):
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = uuid.uuid4()
    for name in ("a.jpg", "b.jpg"):
        image = SimpleUploadedFile(name, image_bytes(), content_type="image/jpeg")
        member_client.post(
            reverse("dashboard:upload"),
            {"images": image, "aria_ratio": "0.5", "max_face_count": "10", "batch": str(batch)},
            HTTP_ACCEPT="application/json",
        )
    plain = [
        SimpleUploadedFile(n, image_bytes(), content_type="image/jpeg") for n in ("c.jpg", "d.jpg")
    ]
    member_client.post(
        reverse("dashboard:upload"), {"images": plain, "aria_ratio": "0.5", "max_face_count": "10"}
    )

    batches = {j.original_name: j.batch for j in Job.objects.all()}
    assert batches["a.jpg"] == batches["b.jpg"] == batch
    assert batches["c.jpg"] == batches["d.jpg"] not in (None, batch)


def test_the_notice_counts_until_every_job_is_final_then_says_done(member_client, member):
    batch = uuid.uuid4()
    job_for(member, "a.jpg", done=True, batch=batch)
    job_for(member, "b.jpg", status=Job.Status.FAILED, batch=batch, completed_at=timezone.now())
    running = job_for(member, "c.jpg", status=Job.Status.PROCESSING, batch=batch)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()
    assert "Your batch of 3 photos: 2 of 3 finished." in html

    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.COMPLETED, completed_at=timezone.now()
    )
    body = member_client.get(reverse("dashboard:live-jobs")).json()

    assert "Your batch of 3 photos is done: 2 done, 1 failed." in body["html"]
    assert 'href="?state=failed"' in body["html"]


def test_only_the_newest_batch_and_not_for_long(member_client, member):
    old, new = uuid.uuid4(), uuid.uuid4()
    for name in ("o1.jpg", "o2.jpg"):
        job = job_for(member, name, done=True, batch=old)
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=2))
    job_for(member, "n1.jpg", done=True, batch=new)
    job_for(member, "n2.jpg", done=True, batch=new)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()
    assert html.count("Your batch of") == 1
    assert "Your batch of 2 photos is done: 2 done, 0 failed." in html

    Job.objects.update(completed_at=timezone.now() - timedelta(days=2))
    assert "Your batch of" not in member_client.get(reverse("dashboard:jobs")).content.decode()
