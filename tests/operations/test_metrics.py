"""GET /metrics: Prometheus metrics of processes, queues, webhooks and jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from tests.api.face_enhancing_support import make_process


def _process(application, *, status: str, seconds: float | None = None) -> FaceEnhancerProcess:
    created = timezone.now() - timedelta(minutes=5)
    process = make_process(application, status=status, created_at=created)
    finished = created + timedelta(seconds=seconds) if seconds is not None else None
    FaceEnhancerProcess.objects.filter(pk=process.pk).update(finished_at=finished)
    return process


def _samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
def test_processes_by_status_and_the_processing_time_histogram(client, alice):
    app = alice.application
    _process(app, status=ProcessStatus.COMPLETED, seconds=1.5)
    _process(app, status=ProcessStatus.COMPLETED, seconds=45)
    _process(app, status=ProcessStatus.FAILED, seconds=3)
    _process(app, status=ProcessStatus.QUEUED)

    samples = _samples(client.get("/metrics"))

    assert samples[("face_enhancer_processes", (("status", "Completed"),))] == 2
    assert samples[("face_enhancer_processes", (("status", "Failed"),))] == 1
    assert samples[("face_enhancer_processes", (("status", "Queued"),))] == 1
    bucket = "face_enhancer_processing_seconds_bucket"
    assert samples[(bucket, (("le", "1.0"),))] == 0
    assert samples[(bucket, (("le", "2.0"),))] == 1
    assert samples[(bucket, (("le", "60.0"),))] == 2
    assert samples[(bucket, (("le", "+Inf"),))] == 2
    assert samples[("face_enhancer_processing_seconds_count", ())] == 2
    assert samples[("face_enhancer_processing_seconds_sum", ())] == pytest.approx(46.5)


@pytest.mark.django_db
def test_queue_depths_and_webhook_failures_are_reported(client):
    samples = _samples(client.get("/metrics"))

    assert samples[("face_enhancer_queue_depth", (("queue", "enhance"),))] >= 0
    assert samples[("face_enhancer_queue_depth", (("queue", "default"),))] >= 0
    assert samples[("face_enhancer_webhook_delivery_failures", ())] == 0


@pytest.mark.django_db
def test_a_configured_token_is_required(client, settings):
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200
