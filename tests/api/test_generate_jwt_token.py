"""POST /api/v1/Authorization/GenerateJwtToken"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from django.utils import timezone

URL = "/api/v1/Authorization/GenerateJwtToken"


def test_the_private_key_gets_a_token_pair(client, alice):
    response = client.post(
        URL,
        {"applicationId": str(alice.application.id), "jwtPrivateKey": alice.jwt_private_key},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "applicationId",
        "accessToken",
        "accessTokenExpiration",
        "refreshToken",
        "refreshTokenExpiration",
    }
    assert body["applicationId"] == str(alice.application.id)
    access_expires = datetime.fromisoformat(body["accessTokenExpiration"])
    refresh_expires = datetime.fromisoformat(body["refreshTokenExpiration"])
    assert timezone.now() < access_expires < refresh_expires
    assert body["accessToken"] != body["refreshToken"]


def test_a_wrong_private_key_is_401_problem_details(client, alice, bob):
    response = client.post(
        URL,
        {"applicationId": str(alice.application.id), "jwtPrivateKey": bob.jwt_private_key},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert "jwtPrivateKey" in body["errors"]
    assert body["extensions"]["traceId"]
    assert body["instance"] == URL


def test_an_unknown_application_is_401(client, alice):
    response = client.post(
        URL,
        {"applicationId": str(uuid.uuid4()), "jwtPrivateKey": alice.jwt_private_key},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "The applicationId and jwtPrivateKey do not match an active application."
    )
    assert "accessToken" not in response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"jwtPrivateKey": "x"}, "applicationId"),
        ({"applicationId": "not-a-guid", "jwtPrivateKey": "x"}, "applicationId"),
        ({"applicationId": "4f7d8a9c-b5e6-4d3e-b7a9-d5c3e1b7a4f6"}, "jwtPrivateKey"),
    ],
)
def test_missing_or_invalid_fields_are_400_naming_the_field(client, db, payload, field):
    response = client.post(URL, payload, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "One or more errors occurred."
    assert list(body["errors"]) == [field]


def test_a_body_that_is_not_json_is_400(client, db):
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert list(body["errors"]) == ["$"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # a RecursionError, once a 500
        '{"a": ' * 33 + "1" + "}" * 33,
        "[" * 500 + "]" * 500,
    ],
)
def test_a_body_nested_too_deep_is_400_without_authentication(client, db, body):
    response = client.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"$": ["Must nest at most 32 levels deep."]}


def test_nesting_up_to_the_limit_is_read(client, db):
    body = '{"applicationId": "x", "jwtPrivateKey": "k", "a": ' + "[" * 31 + "]" * 31 + "}"

    response = client.post(URL, body, content_type="application/json")

    assert response.json()["errors"] == {"applicationId": ["Must be a valid UUID."]}


def test_a_revoked_private_key_no_longer_works(client, alice):
    from enhancer.auth.credentials import credential_rotate

    rotated = credential_rotate(application=alice.application)
    old = client.post(
        URL,
        {"applicationId": str(alice.application.id), "jwtPrivateKey": alice.jwt_private_key},
        content_type="application/json",
    )
    new = client.post(
        URL,
        {"applicationId": str(alice.application.id), "jwtPrivateKey": rotated.jwt_private_key},
        content_type="application/json",
    )
    assert old.status_code == 401
    assert old.json()["detail"] == (
        "The applicationId and jwtPrivateKey do not match an active application."
    )
    assert new.status_code == 200
    assert new.json()["applicationId"] == str(alice.application.id)
    assert new.json()["accessToken"]
