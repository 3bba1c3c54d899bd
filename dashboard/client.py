"""A client of the Face Enhancer API, over HTTP with `requests`.

The dashboard's workers use it to start enhancements, poll progress and
download results. It speaks AdCreative's published contract only (paths,
headers, fields), so pointing it at https://api.adcreative.ai with real
credentials needs no code change.

Transport failures are retried with exponential backoff and jitter by
urllib3's Retry: connection errors, 5xx and 429 (honouring Retry-After), never
other 4xx. Starting a process is retried too, because every start carries an
Idempotency-Key: a retry after a lost answer returns the same process.

Just over 400 lines: one class speaks the whole contract (tokens, start,
progress, download, cancel, notification channels) with the error types a
caller handles; split, the contract would be read in pieces.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import IO, Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)
# A Retry-After up to this many seconds is waited out inside the request;
# a longer one means an outage (the API's queue is down) and is handed back
# to the caller in ApiError.retry_after: the dashboard's task retries later
# and shows the job waiting, instead of a worker sleeping inside one request.
RETRY_AFTER_IN_REQUEST_MAX = 5.0
# Refresh the access token this long before it expires, so that a request
# never leaves with a token that dies on the way.
TOKEN_MARGIN = timedelta(seconds=60)


class ApiError(Exception):
    """The API answered with an error (a problem details body when it has one)."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        trace_id: str | None = None,
        retry_after: float | None = None,
    ):
        self.status = status
        self.detail = detail
        self.errors = errors or {}
        self.trace_id = trace_id
        self.retry_after = retry_after  # seconds, from the answer's Retry-After
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable as itself, so that a task's on_failure and the result store
        # see this error rather than Celery's wrapper of an unpicklable one.
        return (
            type(self),
            (self.status, self.detail, self.errors, self.trace_id, self.retry_after),
        )

    @property
    def message(self) -> str:
        """One sentence for a person: the detail and every field message."""
        parts = [self.detail.rstrip(".") + "."] if self.detail else []
        for name, messages in self.errors.items():
            for text in messages:
                parts.append(f"{name}: {text}" if name else text)
        return " ".join(parts) or f"The API answered {self.status}."

    @property
    def retryable(self) -> bool:
        """Worth trying again later (a RetryableApiError): the tasks declare retries for those."""
        return False

    @property
    def unavailable(self) -> bool:
        """The API cannot take work for now (its queue is down): wait, it is not a failure."""
        return self.status == 503


class RetryableApiError(ApiError):
    """The server's fault or a rate limit (5xx, 429): asking again later may succeed."""

    @property
    def retryable(self) -> bool:
        return True


class ApiUnreachable(RetryableApiError):
    """No answer at all: connection refused, DNS failure or timeouts, after retries."""

    def __init__(self, detail: str):
        super().__init__(0, detail)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail,))

    @property
    def unavailable(self) -> bool:
        return True


@dataclass(frozen=True)
class Connection:
    base_url: str
    application_id: uuid.UUID
    api_key: str
    api_secret: str
    jwt_private_key: str


@dataclass
class _Tokens:
    access: str
    access_expires: datetime
    refresh: str
    refresh_expires: datetime


@dataclass(frozen=True)
class Download:
    content_type: str
    filename: str
    size: int


class _Retry(Retry):
    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is not None and wait > RETRY_AFTER_IN_REQUEST_MAX:
            # With raise_on_status=False urllib3 then returns this answer as it is.
            # urllib3's pools always pass themselves; Retry.increment raises alike.
            raise MaxRetryError(_pool, url or "", error)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


@dataclass
class FaceEnhancerClient:
    connection: Connection
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    session: requests.Session = field(default_factory=requests.Session)
    _tokens: _Tokens | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        retry = _Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            allowed_methods=None,  # every method: starts carry an Idempotency-Key
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_jitter=self.backoff,
            backoff_max=30,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # --- The four endpoints of the seed ---------------------------------------

    def start(
        self,
        *,
        user_id: uuid.UUID,
        image: IO[bytes],
        filename: str,
        aria_ratio: float = 0.5,
        max_face_count: int = 10,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """POST /api/v1/Image/FaceEnhancing/AdCreative"""
        data = {
            "applicationId": str(self.connection.application_id),
            "userId": str(user_id),
            "ariaRatio": repr(float(aria_ratio)),
            "maxFaceCount": str(int(max_face_count)),
        }
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        image.seek(0)
        return self._json(
            "POST",
            "/api/v1/Image/FaceEnhancing/AdCreative",
            data=data,
            files={"uploadedImage": (filename, image)},
            headers=headers,
            rewind=image,
        )

    def check_user_progress(
        self, *, user_id: uuid.UUID, process_id: uuid.UUID | None = None, **extra: Any
    ) -> Any:
        """GET /api/v1/Image/FaceEnhancing/CheckUserProgress"""
        params = {"userId": str(user_id), **extra}
        if process_id is not None:
            params["imageFaceEnhancerProcessId"] = str(process_id)
        return self._json("GET", "/api/v1/Image/FaceEnhancing/CheckUserProgress", params=params)

    def check_application_all_progresses(self, **extra: Any) -> Any:
        """GET /api/v1/Image/FaceEnhancing/CheckApplicationAllProgresses"""
        params = {"applicationId": str(self.connection.application_id), **extra}
        return self._json(
            "GET", "/api/v1/Image/FaceEnhancing/CheckApplicationAllProgresses", params=params
        )

    def download(
        self,
        *,
        process_id: uuid.UUID,
        task_id: uuid.UUID,
        destination: IO[bytes],
        low_resolution: bool = False,
    ) -> Download:
        """GET /api/v1/Image/FaceEnhancing/Download, streamed into `destination`."""
        params = {
            "applicationId": str(self.connection.application_id),
            "taskId": str(task_id),
            "imageFaceEnhancerProcessId": str(process_id),
            "lowResolution": "true" if low_resolution else "false",
        }
        response = self._send(
            "GET", "/api/v1/Image/FaceEnhancing/Download", params=params, stream=True
        )
        with response:
            size = 0
            for chunk in response.iter_content(chunk_size=64 * 1024):
                destination.write(chunk)
                size += len(chunk)
            expected = response.headers.get("Content-Length")
            if expected is not None and int(expected) != size:
                raise ApiUnreachable(f"The download was cut short ({size} of {expected} bytes).")
            return Download(
                content_type=response.headers.get("Content-Type", "application/octet-stream"),
                filename=_filename(response.headers.get("Content-Disposition", "")),
                size=size,
            )

    # --- Beyond the seed ------------------------------------------------------------

    def cancel(self, *, user_id: uuid.UUID, process_id: uuid.UUID) -> dict[str, Any]:
        """POST /api/v1/Image/FaceEnhancing/CancelFaceEnhancing: this server's extension.

        Idempotent (a Cancelled process answers 200 again), so it is retried
        like the rest. A finished process is an ApiError 409; AdCreative's API,
        which has no such operation, answers 404 or 405.
        """
        params = {"userId": str(user_id), "imageFaceEnhancerProcessId": str(process_id)}
        return self._json("POST", "/api/v1/Image/FaceEnhancing/CancelFaceEnhancing", params=params)

    # --- Notification channels -------------------------------------------------

    def create_webhook_channel(self, *, url: str, include_image_data: bool = False) -> Any:
        """POST /api/v1/NotificationChannel: an active webhook channel to `url`.

        Our API answers with the channel's `signingSecret` (Standard Webhooks);
        AdCreative's webhooks are unsigned and have none.
        """
        return self._json(
            "POST",
            "/api/v1/NotificationChannel",
            json={
                "applicationId": str(self.connection.application_id),
                "type": "Webhook",
                "url": url,
                "isActive": True,
                "includeImageData": include_image_data,
            },
        )

    def webhook_channels(self) -> Any:
        """GET /api/v1/NotificationChannel: every channel of the application."""
        return self._json(
            "GET",
            "/api/v1/NotificationChannel",
            params={"applicationId": str(self.connection.application_id)},
        )

    def delete_webhook_channel(self, channel_id: uuid.UUID | str) -> None:
        """DELETE /api/v1/NotificationChannel/{id}"""
        self._send("DELETE", f"/api/v1/NotificationChannel/{channel_id}").close()

    # --- Tokens ----------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token: generated once, refreshed before it expires."""
        with self._lock:
            now = datetime.now().astimezone()
            tokens = self._tokens
            if tokens is not None and tokens.access_expires - TOKEN_MARGIN > now:
                return tokens.access
            if tokens is not None and tokens.refresh_expires - TOKEN_MARGIN > now:
                try:
                    self._tokens = self._token_pair(
                        "/api/v1/Authorization/RefreshJwtToken",
                        {
                            "applicationId": str(self.connection.application_id),
                            "refreshToken": tokens.refresh,
                        },
                    )
                    return self._tokens.access
                except ApiError as e:
                    if e.status != 401:
                        raise
                    # The refresh token was revoked: start over with the private key.
            self._tokens = self._token_pair(
                "/api/v1/Authorization/GenerateJwtToken",
                {
                    "applicationId": str(self.connection.application_id),
                    "jwtPrivateKey": self.connection.jwt_private_key,
                },
            )
            return self._tokens.access

    def _token_pair(self, path: str, payload: dict[str, str]) -> _Tokens:
        response = self._request("POST", path, json=payload, authenticated=False)
        body = _checked(response).json()
        return _Tokens(
            access=body["accessToken"],
            access_expires=_parse_time(body["accessTokenExpiration"]),
            refresh=body["refreshToken"],
            refresh_expires=_parse_time(body["refreshTokenExpiration"]),
        )

    # --- Plumbing --------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def _send(
        self, method: str, path: str, *, rewind: IO[bytes] | None = None, **kwargs: Any
    ) -> requests.Response:
        response = self._request(method, path, **kwargs)
        if response.status_code == 401:
            # The token may have been revoked or have expired on the way:
            # once, get a fresh pair and try again.
            response.close()
            with self._lock:
                self._tokens = None
            if rewind is not None:
                rewind.seek(0)
            response = self._request(method, path, **kwargs)
        return _checked(response)

    def _request(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        if authenticated:
            headers.update(
                {
                    "Authorization": f"Bearer {self.access_token()}",
                    "x-api-key": self.connection.api_key,
                    "x-api-secret": self.connection.api_secret,
                }
            )
        url = self.connection.base_url.rstrip("/") + path
        try:
            return self.session.request(
                method,
                url,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                **kwargs,
            )
        except requests.RequestException as e:
            raise ApiUnreachable(f"The Face Enhancer API at {url} did not answer: {e}") from e


def _checked(response: requests.Response) -> requests.Response:
    if response.status_code < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        body = {}
    response.close()
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    detail = body.get("detail") or body.get("title") or response.reason or ""
    trace = (body.get("extensions") or {}).get("traceId") or body.get("traceId")
    retryable = response.status_code >= 500 or response.status_code == 429
    error = RetryableApiError if retryable else ApiError
    raise error(response.status_code, str(detail), errors, trace, _retry_after(response.headers))


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (an HTTP date is rare enough to be ignored)."""
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.astimezone()


def _filename(disposition: str) -> str:
    for part in disposition.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename":
            return value.strip().strip('"')
    return ""
