"""OpenAPI pieces shared by the API views."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

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
