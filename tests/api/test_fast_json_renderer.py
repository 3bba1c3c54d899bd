"""The FaceEnhancing endpoints' renderer writes the bytes DRF's JSONRenderer writes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from enhancer.api.renderers import FastJSONRenderer


@dataclasses.dataclass
class Point:
    x: int


SAMPLES = {
    "a process body's types": {
        "imageFaceEnhancerProcessId": str(uuid.uuid4()),
        "progress": 100,
        "parameters": {"ariaRatio": 0.3, "maxFaceCount": 5},
        "faces": [{"box": [1, 2, 3, 4], "score": 0.9312345678901234, "enhanced": True}],
        "errorMessage": None,
        "completedAt": "2026-12-02T16:20:01.123456Z",
    },
    "text beyond ASCII, quotes, controls": {"name": 'Zoë "portrait" \n\t\x01 写真 🙂 \\ /'},
    "line and paragraph separators": {"name": "a\u2028b\u2029c"},
    "datetimes in and out of UTC, dates": [
        datetime(2026, 12, 2, 16, 20, 1, tzinfo=UTC),
        datetime(2026, 12, 2, 16, 20, 1, 500, tzinfo=timezone(timedelta(hours=2))),
        date(2026, 12, 2),
    ],
    "UUIDs, decimals": [uuid.uuid4(), Decimal("1.50")],
    "integers past 64 bits": {"big": 2**70},
    "non-string keys": {1: "one", None: "none"},
    "empty containers, floats": {"list": [], "dict": {}, "f": [0.1, 123456.789, -0.0, 3.0]},
}


@pytest.mark.parametrize("data", SAMPLES.values(), ids=SAMPLES.keys())
def test_the_bytes_are_drfs(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_floats_in_exponent_notation_are_the_same_numbers():
    """The one difference in writing: orjson writes 1e-7 where the standard library
    writes 1e-07 (the engine's scores and the parameters never come out that way)."""
    data = {"f": [1e-7, 1e22, 2.5e-300]}

    fast = FastJSONRenderer().render(data)

    assert fast == b'{"f":[1e-7,1e22,2.5e-300]}'
    assert json.loads(fast) == json.loads(JSONRenderer().render(data))


def test_what_drf_cannot_encode_is_refused_as_drf_refuses_it():
    with pytest.raises(TypeError, match="Point"):
        JSONRenderer().render({"p": Point(3)})
    with pytest.raises(TypeError, match="Point"):
        FastJSONRenderer().render({"p": Point(3)})


def test_indented_answers_are_drfs():
    data = {"a": [1, {"b": None}]}
    context = {"indent": 2}

    assert FastJSONRenderer().render(data, "application/json", context) == JSONRenderer().render(
        data, "application/json", context
    )


def test_nothing_renders_as_no_bytes():
    assert FastJSONRenderer().render(None) == b""
