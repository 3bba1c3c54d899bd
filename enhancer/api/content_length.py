"""A request body sent without Content-Length is refused, not read as empty.

Django reads CONTENT_LENGTH bytes of a WSGI body; gunicorn passes a chunked
body (Transfer-Encoding: chunked) with no CONTENT_LENGTH, so Django would see
an empty body and the view would answer about fields "missing" that were
sent. 411 Length Required tells the client what to change.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from enhancer.api.problems import problem_response, wants_problem


class ContentLengthRequired:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        encoding = request.META.get("HTTP_TRANSFER_ENCODING", "")
        if wants_problem(request) and "chunked" in encoding.lower():
            return problem_response(
                request,
                411,
                "A chunked request body is not read; send the body with a Content-Length.",
                {"Content-Length": ["Is required: Transfer-Encoding: chunked is not read."]},
            )
        return self.get_response(request)
