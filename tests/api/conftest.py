"""Applications with credentials, and their request headers, for API tests."""

from __future__ import annotations

import pytest

from enhancer.credentials import IssuedCredential, application_create
from enhancer.tokens import token_pair_issue


def credential_headers(issued: IssuedCredential) -> dict[str, str]:
    """The headers AdCreative's documentation tells a client to send.

    Plain header names: they work with Django's test client (`headers=`) and
    with `requests` alike.
    """
    pair = token_pair_issue(credential=issued.credential)
    return {
        "Authorization": f"Bearer {pair.access_token}",
        "x-api-key": issued.api_key,
        "x-api-secret": issued.api_secret,
        "Accept": "application/json",
    }


@pytest.fixture
def alice(db) -> IssuedCredential:
    return application_create(name="Alice's application")


@pytest.fixture
def bob(db) -> IssuedCredential:
    return application_create(name="Bob's application")


@pytest.fixture
def alice_headers(alice) -> dict[str, str]:
    return credential_headers(alice)


@pytest.fixture
def bob_headers(bob) -> dict[str, str]:
    return credential_headers(bob)
