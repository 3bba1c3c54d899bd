"""The periodic sweep re-sends Queued processes whose message may be lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.processing.tasks import sweep_stale_processes
from tests.api.face_enhancing_support import make_process


def _queued(application, *, minutes_old: float) -> FaceEnhancerProcess:
    process = make_process(application, status=ProcessStatus.QUEUED)
    moment = timezone.now() - timedelta(minutes=minutes_old)
    FaceEnhancerProcess.objects.filter(pk=process.pk).update(created_at=moment, updated_at=moment)
    return process


@pytest.mark.django_db
def test_only_processes_queued_for_too_long_are_sent_again(alice, enqueued, settings):
    settings.FACE_ENHANCING_REQUEUE_AFTER = 600
    lost = _queued(alice.application, minutes_old=30)
    _queued(alice.application, minutes_old=1)

    assert sweep_stale_processes() == 1
    assert [message.args for message in enqueued] == [[str(lost.id)]]
