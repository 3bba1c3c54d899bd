"""OpenAPI pieces shared by the API views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from enhancer.problems import CONTENT_TYPE

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


def problem_media_type(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS' postprocessing hook: problems are application/problem+json.

    drf-spectacular documents every response body as the renderer's
    application/json; problem details are served as application/problem+json,
    and a client (or schemathesis) checks the answer against the schema.
    """
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                body = content.get("application/json", {})
                if body.get("schema", {}).get("$ref", "").endswith("/ProblemDetails"):
                    content[CONTENT_TYPE] = content.pop("application/json")
    return result
