"""Every error the API answers, as a problem detail (enhancer.api.problems).

DRF exceptions (validation, authentication, not found) through DRF's
EXCEPTION_HANDLER, the errors Django raises while reading a request (too
large, too many fields or files), and the 404/500 handlers for paths under
/api/. ProblemDetailsMiddleware turns whatever else Django answers with an
HTML error page under /api/ into a problem detail too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from enhancer.api.problems import (
    CONTENT_TYPE,
    TITLES,
    ProblemError,
    field_errors,
    forget_post,
    problem_body,
    problem_response,
    request_error,
    wants_problem,
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every API error as a problem detail."""
    request = context.get("request")
    if isinstance(exc, SuspiciousOperation):
        forget_post(request)
        exc = request_error(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers
    if isinstance(exc, ProblemError):
        detail, errors = str(exc.detail), exc.errors
    elif isinstance(exc, exceptions.ValidationError):
        detail = "One or more validation errors occurred."
        errors = field_errors(exc.detail)
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        detail = str(exc.detail)
        errors = {"Content-Type": ["Is not a media type this endpoint reads."]}
    else:
        detail = str(getattr(exc, "detail", exc))
        errors = {}
    response.data = problem_body(request, response.status_code, detail, errors)
    response.content_type = CONTENT_TYPE
    return response


class ProblemDetailsMiddleware:
    """Under /api/, no error answer is one of Django's HTML pages.

    The API's views answer problems themselves (DRF's EXCEPTION_HANDLER); this
    catches what Django raises outside them (a view that is not DRF's, another
    middleware) and any HTML error page still on its way out. Elsewhere (the
    dashboard) Django's pages stay.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and wants_problem(request)
            and not response.get("Content-Type", "").startswith(CONTENT_TYPE)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status_code = response.status_code
            detail = response.reason_phrase or TITLES.get(status_code, "Error")
            problem = problem_response(request, status_code, f"{detail}.")
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    problem[header] = response[header]
            return problem
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not (wants_problem(request) and isinstance(exc, SuspiciousOperation)):
            return None
        forget_post(request)
        problem = request_error(exc)
        return problem_response(request, problem.status_code, str(problem.detail), problem.errors)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_problem(request):
        return problem_response(request, status.HTTP_404_NOT_FOUND, "Nothing matches this URL.")
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if wants_problem(request):
        return problem_response(
            request, 500, "The server failed to answer this request; it has been logged."
        )
    return server_error(request)
