"""The API clients of the teams' connections, kept so that their tokens are reused.

Three kinds, each with its own HTTP session: a worker's (the settings'
timeouts, retries inside the request), a page's and a cancel's (a person is
waiting: short timeouts, no retries). The cache is keyed by the connection and
its credentials, so a changed URL or secret gets a new client, and it is
bounded, so connections edited over a long run do not pile up.
"""

from __future__ import annotations

import functools
from typing import Literal

from django.conf import settings

from dashboard.client import Connection, FaceEnhancerClient
from dashboard.models import ApiConnection

Kind = Literal["worker", "page", "cancel"]

# A page or a cancel waits for these, not a worker: fail fast and show the error state.
QUICK_CONNECT_TIMEOUT = 2.0
QUICK_READ_TIMEOUT = 5.0
# Clients kept at most: a few per connection (one of each kind).
CACHE_SIZE = 128


def connection_client(connection: ApiConnection) -> FaceEnhancerClient:
    """The workers' client: the settings' timeouts, and retries inside each request."""
    return _client(connection.pk, _credentials(connection), "worker")


def page_client(connection: ApiConnection) -> FaceEnhancerClient:
    """For a page a person waits on: short timeouts, no retries."""
    return _client(connection.pk, _credentials(connection), "page")


def cancel_client(connection: ApiConnection) -> FaceEnhancerClient:
    """For a person's cancel: short timeouts, no retries (a task retries with backoff)."""
    return _client(connection.pk, _credentials(connection), "cancel")


def _credentials(connection: ApiConnection) -> Connection:
    return Connection(
        base_url=connection.url,
        application_id=connection.application_id,
        api_key=connection.api_key,
        api_secret=connection.api_secret,
        jwt_private_key=connection.jwt_private_key,
    )


@functools.lru_cache(maxsize=CACHE_SIZE)
def _client(connection_id: int, credentials: Connection, kind: Kind) -> FaceEnhancerClient:
    # connection_id is part of the key: two connections with the same
    # credentials still get a client (and tokens) each.
    if kind == "worker":
        return FaceEnhancerClient(
            credentials,
            connect_timeout=settings.DASHBOARD_API_CONNECT_TIMEOUT,
            read_timeout=settings.DASHBOARD_API_READ_TIMEOUT,
        )
    return FaceEnhancerClient(
        credentials,
        connect_timeout=QUICK_CONNECT_TIMEOUT,
        read_timeout=QUICK_READ_TIMEOUT,
        retries=0,
    )
