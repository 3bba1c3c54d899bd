"""POST /api/v1/Authorization/RefreshJwtToken, and token expiry."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from enhancer.auth.credentials import credential_rotate
from enhancer.auth.tokens import token_pair_issue

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
    assert response.json()["errors"] == {"refreshToken": ["The token is not valid."]}


def test_rotation_ends_the_old_refresh_tokens(client, alice):
    pair = token_pair_issue(credential=alice.credential)
    credential_rotate(application=alice.application)

    response = client.post(
        URL, {"refreshToken": pair.refresh_token}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["errors"] == {
        "refreshToken": ["The token's credentials have been revoked."]
    }


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


def _refresh(client, refresh_token: str):
    return client.post(URL, {"refreshToken": refresh_token}, content_type="application/json")


def test_each_new_refresh_token_works_once_in_turn(client, alice):
    token = token_pair_issue(credential=alice.credential).refresh_token

    for _ in range(3):
        response = _refresh(client, token)
        assert response.status_code == 200
        assert response.json()["refreshToken"] != token
        token = response.json()["refreshToken"]


@pytest.mark.parametrize("tries", [1, 2, 3])
def test_a_used_refresh_token_is_refused(client, alice, tries):
    pair = token_pair_issue(credential=alice.credential)
    assert _refresh(client, pair.refresh_token).status_code == 200

    for _ in range(tries):
        response = _refresh(client, pair.refresh_token)

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 401
        assert list(body["errors"]) == ["refreshToken"]
        assert body["extensions"]["traceId"]


def test_reuse_revokes_the_whole_chain_but_not_other_chains(client, alice):
    first = token_pair_issue(credential=alice.credential)
    other_chain = token_pair_issue(credential=alice.credential)
    second = _refresh(client, first.refresh_token).json()

    reuse = _refresh(client, first.refresh_token)
    descendant = _refresh(client, second["refreshToken"])

    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    assert descendant.status_code == 401
    assert "revoked" in descendant.json()["errors"]["refreshToken"][0]
    assert _refresh(client, other_chain.refresh_token).status_code == 200


def test_a_refresh_token_sent_with_another_application_is_not_used_up(client, alice, bob):
    pair = token_pair_issue(credential=alice.credential)

    wrong = client.post(
        URL,
        {"applicationId": str(bob.application.id), "refreshToken": pair.refresh_token},
        content_type="application/json",
    )

    assert wrong.status_code == 401
    assert wrong.json()["errors"] == {"applicationId": ["Does not match the refresh token."]}
    right = _refresh(client, pair.refresh_token)
    assert right.status_code == 200
    assert right.json()["applicationId"] == str(alice.application.id)


def test_a_refresh_token_without_a_chain_is_refused(client, alice, settings):
    # As issued before refresh tokens were single-use: the client signs in again.
    unchained = jwt.encode(
        {
            "sub": str(alice.application.id),
            "cid": alice.credential.pk,
            "typ": "refresh",
            "jti": "0" * 32,
            "exp": timezone.now() + timedelta(hours=1),
        },
        settings.JWT_SIGNING_KEY,
        algorithm="HS256",
    )

    response = _refresh(client, unchained)

    assert response.status_code == 401
    assert response.json()["errors"] == {"refreshToken": ["The token is not valid."]}
