"""GET /metrics: Prometheus metrics of processes, queues, webhooks and jobs."""

from __future__ import annotations

import ipaddress
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

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.content == b"A bearer token is required."
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200
    assert 'face_enhancer_processes{status="Queued"}' in ok.content.decode()


@pytest.mark.django_db
def test_without_a_token_only_allowed_networks_are_served(client, settings):
    settings.METRICS_TOKEN = ""

    # The default: loopback only, so a scraper elsewhere needs a token or a network.
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 403
    assert b"face_enhancer" not in refused.content
    assert b"METRICS_ALLOWED_NETWORKS" in refused.content
    assert b"face_enhancer_processes" in client.get("/metrics", REMOTE_ADDR="127.0.0.1").content

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("203.0.113.0/24")]
    served = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert served.status_code == 200
    assert b"face_enhancer_processes" in served.content
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


@pytest.mark.django_db
def test_a_token_is_required_even_from_an_allowed_network(client, settings):
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    ok = client.get(
        "/metrics", REMOTE_ADDR="198.51.100.1", headers={"Authorization": "Bearer scrape-me"}
    )
    assert b"face_enhancer_processes" in ok.content
