"""Query parameters and form fields, each sent once and not empty.

Left to DRF, `userId=a&userId=b` reads as the last value and `ariaRatio=`
as "not sent" (the default): both would silently answer something other than
what the client asked. Here they are errors naming the field.
"""

from __future__ import annotations

from typing import Any

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


def valid_query(query_class: type[serializers.Serializer], query: QueryDict) -> dict[str, Any]:
    """The query parameters, validated by `query_class`; a 400 naming each bad one."""
    values, errors = single_values(query)
    serializer = query_class(data=values)
    if not serializer.is_valid() or errors:
        raise exceptions.ValidationError({**serializer.errors, **errors})
    return serializer.validated_data
