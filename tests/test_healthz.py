"""GET /healthz reports database, broker and worker, 200 when all are up."""

from __future__ import annotations

import pytest
from django.conf import settings

from config import embedded_redis
from tests.conftest import use_broker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthy_when_database_broker_and_worker_answer(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_unavailable_when_the_broker_is_down(client):
    # Port 9 (discard) has nothing listening on this machine.
    with use_broker(url="redis://127.0.0.1:9/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error:")
    assert body["worker"] == "error: broker unavailable"


@pytest.mark.django_db
def test_unavailable_when_no_worker_consumes(client, settings):
    settings.HEALTH_WORKER_TIMEOUT = 1.0
    # A broker nobody consumes from: another database number of the same Redis.
    if settings.REDIS_URL:
        url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    else:
        url = embedded_redis.broker_url(settings.EMBEDDED_REDIS_SOCKET, 15)
    with use_broker(url=url):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["worker"] == "error: no worker answered within 1 s"
    assert response.json()["broker"] == "ok"


def test_only_get_is_allowed(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_is_routed_without_a_trailing_slash():
    from django.urls import resolve

    assert resolve("/healthz").url_name == "healthz"
    assert settings.ROOT_URLCONF == "config.urls"
