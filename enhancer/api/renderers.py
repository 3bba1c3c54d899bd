"""The FaceEnhancing endpoints' JSON: DRF's JSONRenderer output, encoded by orjson.

Encoding a page of 20 processes took DRF's renderer (the standard library's
json with DRF's encoder) 0.13 ms against orjson's 0.01 ms, about a tenth of a
whole page read (docs/performance.md). orjson is the fast JSON library most of
the Python web ecosystem uses (FastAPI, Litestar); it is called so that the
bytes are DRF's: compact separators, UTF-8, DRF's encoder for what orjson
does not write itself in DRF's way (datetimes, dataclasses), U+2028 and
U+2029 escaped. What orjson refuses (integers past 64 bits, non-string keys)
and any indented answer go to DRF's renderer. Two differences are kept: a
float in exponent notation is written 1e-7 where DRF writes 1e-07 (the same
number; the bodies' scores and ratios are never written so), and a NaN or
infinite float, which DRF's strict renderer refuses with an error, is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


class FastJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if (
            data is None
            or self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type or "", renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: JSON that is also valid JavaScript.
        if _LINE_SEPARATOR in body or _PARAGRAPH_SEPARATOR in body:
            body = body.replace(_LINE_SEPARATOR, b"\\u2028").replace(
                _PARAGRAPH_SEPARATOR, b"\\u2029"
            )
        return body
