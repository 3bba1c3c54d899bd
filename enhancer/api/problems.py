"""RFC 7807 problem details, in AdCreative's shape.

    {"type", "title", "status", "detail", "instance",
     "errors": {"<field>": ["message", ...]}, "extensions": {"traceId": "..."}}

Every error the API answers is built here; enhancer.api.error_handlers hooks
it into DRF and Django (DRF's EXCEPTION_HANDLER, the middleware, the 404/500
handlers). This module imports no view machinery: the API's parsers use it,
and rest_framework.views loads the parsers.

`errors` names the field at fault; an error of the body as a whole is named
"$", as ASP.NET (AdCreative's stack) names the root of a JSON body.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "One or more errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    411: "Length Required",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    411: "https://tools.ietf.org/html/rfc9110#section-15.5.12",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    414: "https://tools.ietf.org/html/rfc9110#section-15.5.15",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    431: "https://www.rfc-editor.org/rfc/rfc6585#section-5",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}


class ProblemError(exceptions.APIException):
    """An error with a status, a detail and optional per-field messages."""

    def __init__(self, status_code: int, detail: str, errors: dict[str, list[str]] | None = None):
        self.status_code = status_code
        self.errors = errors or {}
        super().__init__(detail)


class ServiceUnavailable(ProblemError):
    """503: a part the request needs is down for a moment; nothing was kept.

    DRF's exception handler sends `wait` as the Retry-After header.
    """

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(503, detail)
        self.wait = retry_after


def trace_id(request: HttpRequest | None) -> str:
    if request is not None:
        existing = getattr(request, "trace_id", None)
        if existing:
            return existing
        new_id: str = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        # Kept on the request so that every problem of one request has one id.
        request.trace_id = new_id  # type: ignore[attr-defined]  # not an HttpRequest attribute
        return new_id
    return uuid.uuid4().hex


def problem_body(
    request: HttpRequest | None,
    status_code: int,
    detail: str,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "type": TYPES.get(status_code, "about:blank"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "instance": request.path if request is not None else None,
        "errors": errors or {},
        "extensions": {"traceId": trace_id(request)},
    }


def problem_response(
    request: HttpRequest | None,
    status_code: int,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(
        problem_body(request, status_code, detail, errors),
        status=status_code,
        content_type=CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error structure into {"field": ["message", ...]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = "" if key == "non_field_errors" else str(key)
            full = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for field, messages in field_errors(value, full).items():
                errors.setdefault(field, []).extend(messages)
    elif isinstance(data, list):
        for item in data:
            for field, messages in field_errors(item, prefix).items():
                errors.setdefault(field, []).extend(messages)
    else:
        errors.setdefault(prefix, []).append(str(data))
    return errors


BODY = "$"  # the name of the body as a whole in `errors`


# What Django refuses while reading a request, with the setting that sets the
# limit, the status, the detail and the message for the body (both formatted
# with the limit).
_READ_LIMITS: tuple[tuple[type[SuspiciousOperation], str, int, str, str], ...] = (
    (
        RequestDataTooBig,
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        413,
        "The request body is larger than the limit of {limit} bytes (files not counted).",
        "Must be at most {limit} bytes, files not counted.",
    ),
    (
        TooManyFieldsSent,
        "DATA_UPLOAD_MAX_NUMBER_FIELDS",
        400,
        "The request has more than {limit} query parameters or form fields.",
        "Must have at most {limit} parameters or fields.",
    ),
    (
        TooManyFilesSent,
        "DATA_UPLOAD_MAX_NUMBER_FILES",
        400,
        "The request has more than {limit} files.",
        "Must have at most {limit} files.",
    ),
)


def request_error(exc: SuspiciousOperation) -> ProblemError:
    """What Django refused while reading the request, as a problem.

    Django answers all of these 400; a body over the size limit is 413.
    """
    for kind, setting, code, detail, message in _READ_LIMITS:
        if isinstance(exc, kind):
            limit = getattr(settings, setting)
            return ProblemError(
                code, detail.format(limit=limit), {BODY: [message.format(limit=limit)]}
            )
    return ProblemError(400, "The request was refused as malformed or suspicious.")


def forget_post(request: Any) -> None:
    # As Django's own handler does: reading POST again would raise again.
    django_request = getattr(request, "_request", request)
    mark = getattr(django_request, "_mark_post_parse_error", None)
    if mark is not None:
        mark()


def wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
