"""Retention: finished work older than RETENTION_DAYS goes, with its files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from dashboard.models import Job
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderTask
from operations.retention import purge_older_than
from operations.tasks import retention_purge_task
from tests.dashboard.factories import job_for, member_of, team_for

pytestmark = pytest.mark.django_db


def _process_with_files(application, *, status: str, days_old: float) -> FaceEnhancerProcess:
    created = timezone.now() - timedelta(days=days_old)
    upload = default_storage.save("retention-test/upload.jpg", ContentFile(b"upload"))
    process = FaceEnhancerProcess.objects.create(
        application=application,
        user_id=application.id,
        status=status,
        upload=upload,
        upload_format="JPEG",
        upload_width=1,
        upload_height=1,
        upload_size=6,
        upload_sha256="0" * 64,
        created_at=created,
    )
    RenderTask.objects.create(
        process=process,
        result=default_storage.save("retention-test/result.jpg", ContentFile(b"result")),
        preview=default_storage.save("retention-test/preview.jpg", ContentFile(b"preview")),
    )
    return process


def _files(process: FaceEnhancerProcess) -> list[str]:
    task = process.render_tasks.get()
    return [process.upload.name, task.result.name, task.preview.name]


def test_old_finished_processes_go_with_their_files(alice, django_capture_on_commit_callbacks):
    old = _process_with_files(alice.application, status=ProcessStatus.COMPLETED, days_old=31)
    cancelled = _process_with_files(alice.application, status=ProcessStatus.CANCELLED, days_old=31)
    running = _process_with_files(alice.application, status=ProcessStatus.PROCESSING, days_old=31)
    recent = _process_with_files(alice.application, status=ProcessStatus.FAILED, days_old=29)
    old_files = _files(old) + _files(cancelled)

    with django_capture_on_commit_callbacks(execute=True):
        report = purge_older_than(days=30)

    assert report.processes == 2
    assert not FaceEnhancerProcess.objects.filter(pk__in=[old.pk, cancelled.pk]).exists()
    assert not any(default_storage.exists(name) for name in old_files)
    for kept in (running, recent):
        assert FaceEnhancerProcess.objects.filter(pk=kept.pk).exists()
        assert all(default_storage.exists(name) for name in _files(kept))


def test_old_finished_dashboard_jobs_go_with_their_files(alice, django_capture_on_commit_callbacks):
    membership = member_of(team_for(alice))
    old = job_for(membership, status=Job.Status.COMPLETED)
    active = job_for(membership, status=Job.Status.PROCESSING)
    Job.objects.update(created_at=timezone.now() - timedelta(days=40))
    original = old.original.name

    with django_capture_on_commit_callbacks(execute=True):
        report = purge_older_than(days=30)

    assert report.jobs == 1
    assert not Job.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(original)
    assert Job.objects.filter(pk=active.pk).exists()


def test_zero_days_keeps_everything(alice, settings):
    settings.RETENTION_DAYS = 0
    process = _process_with_files(alice.application, status=ProcessStatus.COMPLETED, days_old=999)

    assert retention_purge_task() == {}
    assert FaceEnhancerProcess.objects.filter(pk=process.pk).exists()
