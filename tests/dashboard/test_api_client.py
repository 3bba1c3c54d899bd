"""The dashboard's client of the Face Enhancer API, over real HTTP.

Token handling runs against our own API served by pytest-django's
live_server; retry behaviour against a small local HTTP server that answers
what each test scripts.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard.client import ApiError, ApiUnreachable, Connection, FaceEnhancerClient
from enhancer.auth.credentials import application_create, credential_rotate


@pytest.fixture
def live_connection(live_server, transactional_db) -> Connection:
    issued = application_create(name="Dashboard")
    return Connection(
        base_url=live_server.url,
        application_id=issued.application.id,
        api_key=issued.api_key,
        api_secret=issued.api_secret,
        jwt_private_key=issued.jwt_private_key,
    )


def test_a_token_is_generated_once_and_reused(live_connection):
    client = FaceEnhancerClient(live_connection)

    first = client.access_token()
    second = client.access_token()

    assert first == second


def test_the_token_is_refreshed_before_it_expires(live_connection):
    client = FaceEnhancerClient(live_connection)
    first = client.access_token()
    # Pretend the access token is about to expire: inside the safety margin.
    client._tokens.access_expires = datetime.now().astimezone() + timedelta(seconds=30)

    refreshed = client.access_token()

    assert refreshed != first


def test_revoked_credentials_raise_a_401_api_error(live_connection):
    from enhancer.models import Application

    credential_rotate(application=Application.objects.get(pk=live_connection.application_id))
    client = FaceEnhancerClient(live_connection)

    with pytest.raises(ApiError) as raised:
        client.access_token()

    assert raised.value.status == 401
    assert not raised.value.retryable
    assert "jwtPrivateKey" in raised.value.errors


# --- Retries, against a scripted server -------------------------------------------


class Scripted(ThreadingHTTPServer):
    answers: list[tuple[int, dict[str, str], bytes]]
    seen: list[tuple[str, str, dict[str, str]]]


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/api/v1/Authorization/"):
            expires = (datetime.now().astimezone() + timedelta(hours=1)).isoformat()
            status, headers, body = (
                200,
                {},
                json.dumps(
                    {
                        "applicationId": str(uuid.UUID(int=1)),
                        "accessToken": "access",
                        "accessTokenExpiration": expires,
                        "refreshToken": "refresh",
                        "refreshTokenExpiration": expires,
                    }
                ).encode(),
            )
        else:
            status, headers, body = self.server.answers.pop(0)
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted(("127.0.0.1", 0), Handler)
    server.answers, server.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server: Scripted, **kwargs: object) -> FaceEnhancerClient:
    connection = Connection(
        base_url=f"http://127.0.0.1:{server.server_address[1]}",
        application_id=uuid.UUID(int=1),
        api_key="key",
        api_secret="secret",
        jwt_private_key="private",
    )
    return FaceEnhancerClient(connection, backoff=0.01, **kwargs)


def _json(status: int, body: object, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def _progress_calls(server: Scripted) -> list[tuple[str, str, dict[str, str]]]:
    return [seen for seen in server.seen if "CheckUserProgress" in seen[1]]


def test_5xx_is_retried_until_it_succeeds(scripted):
    scripted.answers = [_json(503, {}), _json(502, {}), _json(200, [{"status": "Completed"}])]

    body = _client(scripted).check_user_progress(user_id=uuid.UUID(int=2))

    assert body == [{"status": "Completed"}]
    assert len(_progress_calls(scripted)) == 3


def test_429_waits_for_retry_after(scripted):
    scripted.answers = [_json(429, {}, **{"Retry-After": "1"}), _json(200, [])]

    started = time.monotonic()
    _client(scripted).check_user_progress(user_id=uuid.UUID(int=2))

    assert time.monotonic() - started >= 0.9
    assert len(_progress_calls(scripted)) == 2


def test_a_long_retry_after_is_handed_back_instead_of_slept_through(scripted):
    # The API's queue is down: the caller's task comes back later, no worker sleeps.
    scripted.answers = [_json(503, {"detail": "The queue is down."}, **{"Retry-After": "30"})]

    started = time.monotonic()
    with pytest.raises(ApiError) as raised:
        _client(scripted).check_user_progress(user_id=uuid.UUID(int=2))

    assert time.monotonic() - started < 1
    assert len(_progress_calls(scripted)) == 1
    assert (raised.value.status, raised.value.retry_after) == (503, 30.0)
    assert raised.value.unavailable and raised.value.retryable
    assert raised.value.message == "The queue is down."


def test_other_4xx_is_not_retried_and_carries_the_field_messages(scripted):
    problem = {
        "title": "One or more errors occurred.",
        "status": 400,
        "detail": "One or more validation errors occurred.",
        "errors": {"userId": ["Must be a valid UUID."]},
        "extensions": {"traceId": "abc"},
    }
    scripted.answers = [_json(400, problem)]

    with pytest.raises(ApiError) as raised:
        _client(scripted).check_user_progress(user_id=uuid.UUID(int=2))

    assert len(_progress_calls(scripted)) == 1
    assert raised.value.status == 400
    assert raised.value.errors == {"userId": ["Must be a valid UUID."]}
    assert raised.value.trace_id == "abc"
    assert "userId: Must be a valid UUID." in raised.value.message


def test_5xx_after_the_last_retry_is_a_retryable_error(scripted):
    scripted.answers = [_json(500, {"detail": "boom"})] * 3

    with pytest.raises(ApiError) as raised:
        _client(scripted, retries=2).check_user_progress(user_id=uuid.UUID(int=2))

    assert raised.value.status == 500
    assert raised.value.retryable


def test_a_server_that_is_down_is_unreachable_not_a_crash():
    connection = Connection("http://127.0.0.1:9", uuid.UUID(int=1), "k", "s", "p")
    client = FaceEnhancerClient(connection, retries=1, backoff=0.01, connect_timeout=1)

    with pytest.raises(ApiUnreachable) as raised:
        client.check_user_progress(user_id=uuid.UUID(int=2))

    assert raised.value.retryable


def test_a_start_sends_the_seed_fields_and_an_idempotency_key(scripted):
    scripted.answers = [_json(503, {}), _json(200, {"imageFaceEnhancerProcessId": "p"})]

    _client(scripted).start(
        user_id=uuid.UUID(int=2),
        image=io.BytesIO(b"\xff\xd8 not really a jpeg"),
        filename="me.jpg",
        aria_ratio=0.7,
        max_face_count=3,
        idempotency_key="key-1",
    )

    starts = [seen for seen in scripted.seen if seen[1].endswith("/FaceEnhancing/AdCreative")]
    assert len(starts) == 2  # retried after the 503, with the same key
    for _, _, headers in starts:
        assert headers["Idempotency-Key"] == "key-1"
        assert headers["Authorization"] == "Bearer access"
        assert headers["x-api-key"] == "key"
        assert headers["x-api-secret"] == "secret"
        assert headers["Content-Type"].startswith("multipart/form-data")


def test_a_download_streams_to_the_destination(scripted):
    body = b"\x89PNG" + bytes(100_000)
    scripted.answers = [
        (
            200,
            {"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="a.png"'},
            body,
        )
    ]
    destination = io.BytesIO()

    download = _client(scripted).download(
        process_id=uuid.UUID(int=3), task_id=uuid.UUID(int=4), destination=destination
    )

    assert destination.getvalue() == body
    assert (download.content_type, download.filename, download.size) == (
        "image/png",
        "a.png",
        len(body),
    )
