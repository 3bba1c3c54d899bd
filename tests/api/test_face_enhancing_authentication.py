"""401 on every FaceEnhancing endpoint for a missing, invalid or expired token or wrong keys."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from enhancer.auth.credentials import credential_rotate
from enhancer.auth.tokens import token_pair_issue
from tests.api.face_enhancing_support import (
    APPLICATION_PROGRESS_URL,
    DOWNLOAD_URL,
    START_URL,
    USER_PROGRESS_URL,
    start_form,
)

pytestmark = pytest.mark.usefixtures("media", "channel_optional")


def _call(client, endpoint, alice, headers):
    app = str(alice.application.id)
    if endpoint == "start":
        return client.post(START_URL, start_form(alice.application), headers=headers)
    query = {
        "progress": (USER_PROGRESS_URL, {"userId": str(uuid.uuid4())}),
        "application": (APPLICATION_PROGRESS_URL, {"applicationId": app}),
        "download": (
            DOWNLOAD_URL,
            {
                "applicationId": app,
                "taskId": str(uuid.uuid4()),
                "imageFaceEnhancerProcessId": str(uuid.uuid4()),
            },
        ),
    }[endpoint]
    return client.get(*query, headers=headers)


def _expired_token(alice) -> str:
    past = timezone.now() - timedelta(hours=2)
    claims = {
        "sub": str(alice.application.id),
        "cid": alice.credential.pk,
        "typ": "access",
        "iat": past,
        "exp": past + timedelta(hours=1),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")


def _broken(alice, alice_headers, how: str) -> dict[str, str]:
    headers = dict(alice_headers)
    if how == "no token":
        del headers["Authorization"]
    elif how == "not bearer":
        headers["Authorization"] = "Basic dXNlcjpwYXNz"
    elif how == "garbage token":
        headers["Authorization"] = "Bearer not.a.jwt"
    elif how == "expired token":
        headers["Authorization"] = f"Bearer {_expired_token(alice)}"
    elif how == "refresh token":
        pair = token_pair_issue(credential=alice.credential)
        headers["Authorization"] = f"Bearer {pair.refresh_token}"
    elif how == "no key":
        del headers["x-api-key"]
    elif how == "wrong key":
        headers["x-api-key"] = "fek_unknown"
    elif how == "wrong secret":
        headers["x-api-secret"] = alice_headers["x-api-secret"][:-2] + "xx"
    elif how == "revoked":
        credential_rotate(application=alice.application)
    return headers


ENDPOINTS = ["start", "progress", "application", "download"]
BREAKAGES = [
    "no token",
    "not bearer",
    "garbage token",
    "expired token",
    "refresh token",
    "no key",
    "wrong key",
    "wrong secret",
    "revoked",
]


@pytest.mark.parametrize("how", BREAKAGES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_credentials_are_401_problem_details(client, alice, alice_headers, endpoint, how):
    response = _call(client, endpoint, alice, _broken(alice, alice_headers, how))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["detail"]
    assert body["extensions"]["traceId"]


def test_a_token_that_was_accepted_is_refused_once_it_expires(client, alice, alice_headers):
    """The server keeps tokens it has verified (a poller sends the same one each
    time); the expiry is still checked on every request."""
    expires = int(time.time()) + 2
    claims = {
        "sub": str(alice.application.id),
        "cid": alice.credential.pk,
        "typ": "access",
        "iat": expires - 3600,
        "exp": expires,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")
    headers = {**alice_headers, "Authorization": f"Bearer {token}"}

    accepted = _call(client, "application", alice, headers)
    while time.time() <= expires:
        time.sleep(0.1)
    refused = _call(client, "application", alice, headers)

    assert accepted.status_code == 404  # authenticated: the application has no process
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The token has expired."
