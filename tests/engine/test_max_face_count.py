"""maxFaceCount: the largest faces are enhanced, the others left exactly as they were."""

from __future__ import annotations

import numpy as np
import pytest

from enhancer.engine import EngineConfig, EnhanceOptions, Enhancer, InvalidOption
from enhancer.engine.alignment import align
from tests.engine.images import collage, decode, encode

GROUP = encode(collage(), "PNG")


@pytest.fixture(scope="module")
def two_of_three(enhancer: Enhancer) -> tuple[np.ndarray, list[bool]]:
    result = enhancer.enhance(GROUP, EnhanceOptions(max_face_count=2, aria_ratio=1.0))
    assert (result.faces_detected, result.faces_enhanced) == (3, 2)
    return np.asarray(decode(result.image_bytes)), [f.enhanced for f in result.faces]


def test_the_two_largest_faces_are_enhanced(two_of_three: tuple[np.ndarray, list[bool]]) -> None:
    # Faces are reported left to right; the collage's sizes decrease that way.
    assert two_of_three[1] == [True, True, False]


def test_the_third_face_is_untouched(
    enhancer: Enhancer, two_of_three: tuple[np.ndarray, list[bool]]
) -> None:
    output, _ = two_of_three
    smallest = min(enhancer.detector.detect(collage()), key=lambda f: f.area)
    x0, y0, x1, y1 = align(smallest.landmarks).bounds(output.shape[1], output.shape[0])
    assert np.array_equal(output[y0:y1, x0:x1], collage()[y0:y1, x0:x1])
    # While the enhanced ones did change.
    assert not np.array_equal(output[:, :300], collage()[:, :300])


def test_max_face_count_is_capped_by_the_configuration(enhancer: Enhancer) -> None:
    capped = EngineConfig(max_face_count=3)
    with pytest.raises(InvalidOption) as info:
        EnhanceOptions(max_face_count=4).validate(capped)
    assert info.value.field == "maxFaceCount"
    assert "1 to 3" in info.value.message
    EnhanceOptions(max_face_count=3).validate(capped)


@pytest.mark.parametrize("count", [0, -1, 51, 2.5, True, "3", None])
def test_a_bad_max_face_count_is_refused(enhancer: Enhancer, count: object) -> None:
    with pytest.raises(InvalidOption) as info:
        enhancer.enhance(GROUP, EnhanceOptions(max_face_count=count))  # type: ignore[arg-type]
    assert info.value.field == "maxFaceCount"
