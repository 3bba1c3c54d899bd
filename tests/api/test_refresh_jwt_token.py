"""POST /api/v1/Authorization/RefreshJwtToken, and token expiry."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from enhancer.credentials import credential_rotate
from enhancer.tokens import token_pair_issue

URL = "/api/v1/Authorization/RefreshJwtToken"


def test_a_refresh_token_gets_a_new_pair(client, alice):
    pair = token_pair_issue(credential=alice.credential)

    response = client.post(
        URL, {"refreshToken": pair.refresh_token}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["applicationId"] == str(alice.application.id)
    assert body["accessToken"] != pair.access_token


def test_an_access_token_is_not_a_refresh_token(client, alice):
    pair = token_pair_issue(credential=alice.credential)

    response = client.post(
        URL, {"refreshToken": pair.access_token}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["errors"]["refreshToken"] == ["This is not a refresh token."]


def test_an_expired_refresh_token_is_401(client, alice, settings):
    expired = jwt.encode(
        {
            "sub": str(alice.application.id),
            "cid": alice.credential.pk,
            "typ": "refresh",
            "exp": timezone.now() - timedelta(seconds=5),
        },
        settings.JWT_SIGNING_KEY,
        algorithm="HS256",
    )

    response = client.post(URL, {"refreshToken": expired}, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["detail"] == "The token has expired."


def test_a_token_signed_with_another_key_is_401(client, alice):
    forged = jwt.encode(
        {
            "sub": str(alice.application.id),
            "cid": alice.credential.pk,
            "typ": "refresh",
            "exp": timezone.now() + timedelta(hours=1),
        },
        "not-our-key-but-long-enough-for-hs256-0123456789",
        algorithm="HS256",
    )
    response = client.post(URL, {"refreshToken": forged}, content_type="application/json")
    assert response.status_code == 401


def test_rotation_ends_the_old_refresh_tokens(client, alice):
    pair = token_pair_issue(credential=alice.credential)
    credential_rotate(application=alice.application)

    response = client.post(
        URL, {"refreshToken": pair.refresh_token}, content_type="application/json"
    )

    assert response.status_code == 401


def test_a_refresh_token_of_another_application_is_refused(client, alice, bob):
    pair = token_pair_issue(credential=bob.credential)

    response = client.post(
        URL,
        {"applicationId": str(alice.application.id), "refreshToken": pair.refresh_token},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert "applicationId" in response.json()["errors"]


@pytest.mark.parametrize("payload", [{}, {"refreshToken": ""}])
def test_a_missing_refresh_token_is_400(client, db, payload):
    response = client.post(URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert "refreshToken" in response.json()["errors"]
