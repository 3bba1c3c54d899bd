"""Over-long request lines and header fields, refused by Django in words a client reads.

gunicorn refuses a request line over --limit-request-line (4094 bytes by
default) or a header field over --limit-request-field_size with an HTML page,
before Django sees the request. The web programs raise those limits (to
gunicorn's 1 MiB cap of a request line, config/supervisor.py and
docker-compose.yml) so that this middleware meets the request first and
answers under /api/ with problem details: 414 naming the longest query
parameter (or the path),
431 naming the header. Elsewhere the answer is plain text with the same status.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from enhancer.api.problems import problem_response, wants_problem


def _refuse(
    request: HttpRequest, status: int, detail: str, field: str, message: str
) -> HttpResponse:
    if wants_problem(request):
        return problem_response(request, status, detail, {field: [message]})
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def _longest_parameter(query: str) -> str:
    """The name of the query parameter that takes the most room, or "query"."""
    pairs = [pair for pair in query.split("&") if pair]
    if not pairs:
        return "query"
    name = unquote_plus(max(pairs, key=len).split("=", 1)[0])
    return name or "query"


class RequestLimits:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_URI_MAX_LENGTH
        # Percent-encoded, as sent: what the client can shorten.
        path = request.META.get("RAW_URI") or request.get_full_path()
        if len(path) > limit:
            query = request.META.get("QUERY_STRING", "")
            field = _longest_parameter(query) if len(path) - len(query) <= limit else "path"
            return _refuse(
                request,
                414,
                f"The request URI is {len(path)} bytes long; the limit is {limit}.",
                field,
                f"The URI must be at most {limit} bytes; send long data in a request body.",
            )
        field_limit = settings.REQUEST_HEADER_MAX_SIZE
        for name, value in request.META.items():
            if name.startswith("HTTP_") and len(value) > field_limit:
                header = name[5:].replace("_", "-").title()
                return _refuse(
                    request,
                    431,
                    f"The {header} header is {len(value)} bytes long; the limit is {field_limit}.",
                    header,
                    f"Must be at most {field_limit} bytes.",
                )
        return self.get_response(request)
