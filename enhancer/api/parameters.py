"""Query parameters and form fields, each sent once and not empty.

Left to DRF, `userId=a&userId=b` reads as the last value and `ariaRatio=`
as "not sent" (the default): both would silently answer something other than
what the client asked. Here they are errors naming the field.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import QueryDict
from rest_framework import exceptions, serializers


def single_values(data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`data` as a plain dict of one value per name, and the errors of the rest.

    A JSON body (already a dict) passes unchanged.
    """
    if not isinstance(data, QueryDict):
        return data, {}
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, sent in data.lists():
        if len(sent) > 1:
            errors[name] = [f"Send {name} once, not {len(sent)} times."]
        elif isinstance(sent[0], str) and sent[0] == "":
            errors[name] = [f"Must not be empty (leave {name} out instead)."]
        else:
            values[name] = sent[0]
    return values, errors


# One serializer per query class, built on first use and shared by every
# request: building one per request (DRF deep-copies its declared fields) and
# validating through is_valid was 6% of a one-process CheckUserProgress in
# process (docs/performance.md). run_validation keeps nothing on the
# serializer, so a worker's threads can share it.
_QUERIES: dict[type[serializers.Serializer], serializers.Serializer] = {}


@receiver(setting_changed)
def _forget_queries(**kwargs: object) -> None:
    _QUERIES.clear()  # query classes read settings (page sizes) when built


def valid_query(query_class: type[serializers.Serializer], query: QueryDict) -> dict[str, Any]:
    """The query parameters, validated by `query_class`; a 400 naming each bad one."""
    values, errors = single_values(query)
    serializer = _QUERIES.get(query_class)
    if serializer is None:
        serializer = _QUERIES.setdefault(query_class, query_class())
    try:
        validated: dict[str, Any] = serializer.run_validation(values)
    except exceptions.ValidationError as e:
        assert isinstance(e.detail, dict)  # a serializer's errors are per field
        raise exceptions.ValidationError({**e.detail, **errors}) from None
    if errors:
        raise exceptions.ValidationError(errors)
    return validated
