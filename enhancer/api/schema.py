"""OpenAPI pieces shared by the API views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from enhancer.api.problems import CONTENT_TYPE

PROBLEM = inline_serializer(
    name="ProblemDetails",
    fields={
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "instance": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        "extensions": inline_serializer(
            name="ProblemExtensions", fields={"traceId": serializers.CharField()}
        ),
    },
)

# The two headers that go with the bearer token on every authenticated call.
CREDENTIAL_HEADERS = [
    OpenApiParameter(
        "x-api-key",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="API key of the application",
    ),
    OpenApiParameter(
        "x-api-secret",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="API secret of the application",
    ),
]


# What any request may be answered before its view reads it (enhancer.api.problems,
# enhancer.api.content_length, enhancer.api.request_limits), and what any body
# may be answered.
REQUEST_PROBLEMS = {
    "400": "Too many query parameters or form fields, or a parameter sent twice or empty.",
    "414": "The request URI is longer than the server's limit (errors name query or path).",
    "431": "A header is longer than the server's limit (errors name the header).",
}
BODY_PROBLEMS = {
    "411": "The body was sent chunked, without Content-Length.",
    "413": "The body (files not counted) is larger than the server's limit.",
    "415": "The body is of a media type this endpoint does not read.",
}


def problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS' postprocessing hook: problem responses as served.

    drf-spectacular documents every response body as the renderer's
    application/json; problem details are served as application/problem+json.
    The statuses answered before any view runs are added to every operation,
    so that a client (or schemathesis) finds each answer in the schema.
    """
    problem = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for response in responses.values():
                content = response.get("content", {})
                body = content.get("application/json", {})
                if body.get("schema", {}).get("$ref", "").endswith("/ProblemDetails"):
                    content[CONTENT_TYPE] = content.pop("application/json")
            added = {**REQUEST_PROBLEMS, **(BODY_PROBLEMS if "requestBody" in operation else {})}
            for status, description in added.items():
                responses.setdefault(status, {"description": description, "content": problem})
    return result
