"""The API's body parsers: DRF's, with errors that name what is wrong.

A JSON body nested deeper than MAX_JSON_DEPTH is refused: no request of this
API nests more than a few levels, and Python's decoder recurses, so a body of
100,000 brackets would otherwise end in a RecursionError (a 500).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any

from django.utils.datastructures import MultiValueDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from enhancer.api.problems import BODY, ProblemError

if TYPE_CHECKING:
    # The stubs' name for the immutable QueryDict a parsed form is.
    from django.http.request import _ImmutableQueryDict

MAX_JSON_DEPTH = 32


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` deep (without recursing)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> ProblemError:
    return ProblemError(
        400,
        f"The JSON body nests lists or objects more than {MAX_JSON_DEPTH} levels deep.",
        {BODY: [f"Must nest at most {MAX_JSON_DEPTH} levels deep."]},
    )


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:  # any JSON value: the views refuse what is not an object
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        except ParseError as e:
            raise ProblemError(400, str(e.detail), {BODY: [str(e.detail)]}) from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> parsers.DataAndFiles[_ImmutableQueryDict, MultiValueDict]:
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as e:
            # The one thing a client controls here is the header: a missing or
            # bad boundary, or a body that does not follow it.
            raise ProblemError(
                400,
                str(e.detail),
                {"Content-Type": ["Must be multipart/form-data with the boundary of the body."]},
            ) from None
