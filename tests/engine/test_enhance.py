"""One image through the whole engine: what the result carries."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image

from enhancer.engine import EnhanceOptions, Enhancer, EnhanceResult
from tests.engine.conftest import inverted
from tests.engine.images import astronaut, coffee, decode, encode


@pytest.fixture(scope="module")
def portrait_result(enhancer: Enhancer) -> EnhanceResult:
    return enhancer.enhance(encode(astronaut(), "JPEG", quality=90), EnhanceOptions())


def test_result_describes_the_output(portrait_result: EnhanceResult) -> None:
    result = portrait_result
    assert (result.format, result.content_type, result.extension) == ("JPEG", "image/jpeg", "jpg")
    assert (result.width, result.height) == (512, 512)
    assert decode(result.image_bytes).size == (512, 512)
    assert max(decode(result.preview_bytes).size) <= 512
    assert (result.faces_detected, result.faces_enhanced) == (1, 1)


def test_faces_and_timings_serialise(portrait_result: EnhanceResult) -> None:
    summary = portrait_result.to_dict()
    (face,) = summary["faces"]  # type: ignore[misc]
    assert set(face) == {"box", "score", "enhanced"}
    x0, y0, x1, y1 = face["box"]
    assert 150 < x0 < x1 < 300 and 30 < y0 < y1 < 210
    assert face["enhanced"] is True and 0.5 < face["score"] <= 1
    timings = portrait_result.timings
    assert {"decode", "detect", "align", "restore", "paste", "encode", "total"} <= set(timings)
    assert timings["total"] >= timings["restore"] > 0


def test_grayscale_photo_is_enhanced_in_grayscale(enhancer: Enhancer) -> None:
    gray = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2GRAY)
    result = enhancer.enhance(encode(gray, "PNG"), EnhanceOptions())
    output = decode(result.image_bytes)
    assert output.mode == "L" and result.faces_enhanced == 1
    assert not np.array_equal(np.asarray(output), gray)


def test_transparency_survives_enhancement(fake_enhancer: Callable[..., Enhancer]) -> None:
    alpha = np.tile(np.linspace(0, 255, 512).astype(np.uint8), (512, 1))
    source = np.dstack([astronaut(), alpha])
    result = fake_enhancer(inverted).enhance(encode(source, "PNG"), EnhanceOptions())
    output = np.asarray(decode(result.image_bytes))
    assert output.shape == (512, 512, 4)
    assert np.array_equal(output[..., 3], alpha)  # alpha exactly as it was
    assert not np.array_equal(output[..., :3], astronaut())  # the face did change


def test_exif_rotated_photo_is_enhanced_upright(enhancer: Enhancer) -> None:
    # Stored lying on its side with Orientation 8: shown upright after rotation.
    lying = np.ascontiguousarray(np.rot90(astronaut(), k=-1))
    exif = Image.Exif()
    exif[0x0112] = 8
    result = enhancer.enhance(encode(lying, "JPEG", exif=exif.tobytes()), EnhanceOptions())
    assert result.faces_enhanced == 1
    assert decode(result.image_bytes).getexif().get(0x0112) is None  # not rotated twice


def test_photo_without_faces_comes_back_unchanged(enhancer: Enhancer) -> None:
    result = enhancer.enhance(encode(coffee(), "PNG"), EnhanceOptions())
    assert (result.faces_detected, result.faces, result.faces_enhanced) == (0, [], 0)
    assert np.array_equal(np.asarray(decode(result.image_bytes)), coffee())
