"""GET /api/v1/Image/FaceEnhancing/CheckApplicationAllProgresses?applicationId="""

from __future__ import annotations

import uuid

import pytest

from enhancer.models import ProcessStatus
from tests.api.face_enhancing_support import (
    APPLICATION_PROGRESS_URL,
    make_process,
    minutes_ago,
)

pytestmark = pytest.mark.usefixtures("media")


def _get(client, headers, **query):
    return client.get(APPLICATION_PROGRESS_URL, query, headers=headers)


def test_every_process_of_the_application_newest_first(client, alice, bob, alice_headers):
    app = alice.application
    older = make_process(app, user_id=uuid.uuid4(), created_at=minutes_ago(5))
    failed = make_process(
        app,
        user_id=uuid.uuid4(),
        status=ProcessStatus.FAILED,
        created_at=minutes_ago(4),
        error_message="Too large.",
    )
    newer = make_process(
        app, user_id=uuid.uuid4(), status=ProcessStatus.COMPLETED, created_at=minutes_ago(1)
    )
    make_process(bob.application)  # never part of Alice's answer

    response = _get(client, alice_headers, applicationId=str(app.id))

    assert response.status_code == 200
    body = response.json()
    assert [p["imageFaceEnhancerProcessId"] for p in body["items"]] == [
        str(newer.id),
        str(failed.id),
        str(older.id),
    ]
    assert body["totalCount"] == 3
    assert [p["status"] for p in body["items"]] == ["Completed", "Failed", "Queued"]
    assert [p["progress"] for p in body["items"]] == [100, 0, 0]
    assert body["items"][1]["errorMessage"] == "Too large."
    assert [p["renderTasks"][0]["renderState"] for p in body["items"]] == [5, -1, 1]


def test_pages(client, alice, alice_headers):
    for i in range(3):
        make_process(alice.application, created_at=minutes_ago(10 - i))
    body = _get(
        client, alice_headers, applicationId=str(alice.application.id), pageSize=2, page=2
    ).json()
    assert (body["page"], body["pageSize"], body["totalCount"], body["totalPages"]) == (2, 2, 3, 2)
    assert len(body["items"]) == 1


def test_an_application_without_processes_is_404(client, alice, alice_headers):
    response = _get(client, alice_headers, applicationId=str(alice.application.id))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "applicationId"),
        ({"applicationId": "123"}, "applicationId"),
        ({"applicationId": "OWN", "pageSize": "x"}, "pageSize"),
        ({"applicationId": ""}, "applicationId"),
        ({"applicationId": "OWN", "page": "9223372036854775808"}, "page"),
        ({"applicationId": "OWN", "page": "-1"}, "page"),
        ({"applicationId": "OWN", "page": "one"}, "page"),
        ({"applicationId": "OWN", "page": ""}, "page"),
        ({"applicationId": "OWN", "pageSize": "9223372036854775808"}, "pageSize"),
        ({"applicationId": "OWN", "pageSize": "-5"}, "pageSize"),
    ],
)
def test_missing_or_invalid_parameters_are_400_naming_them(
    client, alice, alice_headers, query, field
):
    make_process(alice.application)
    query = {k: str(alice.application.id) if v == "OWN" else v for k, v in query.items()}
    response = client.get(APPLICATION_PROGRESS_URL, query, headers=alice_headers)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]


def test_a_repeated_application_id_is_400(client, alice, bob, alice_headers):
    make_process(alice.application)
    response = client.get(
        f"{APPLICATION_PROGRESS_URL}?applicationId={bob.application.id}"
        f"&applicationId={alice.application.id}",
        headers=alice_headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"applicationId": ["Send applicationId once, not 2 times."]}


def test_another_applications_id_is_401(client, alice, bob, alice_headers):
    make_process(bob.application)
    response = _get(client, alice_headers, applicationId=str(bob.application.id))
    assert response.status_code == 401
    assert "items" not in response.json()


def test_without_credentials_it_is_401(client, alice):
    response = client.get(APPLICATION_PROGRESS_URL, {"applicationId": str(alice.application.id)})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The Authorization header with a Bearer token is missing."
