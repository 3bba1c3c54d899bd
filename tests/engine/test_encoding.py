"""Encoding: the output keeps the input's format, size, ICC, alpha and grayscale."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from enhancer.engine import EngineConfig, decode_image
from enhancer.engine.encoding import PREVIEW_MAX_SIDE, encode_image, encode_preview
from tests.engine.images import astronaut, decode, encode

CONFIG = EngineConfig()
PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def roundtrip(data: bytes) -> Image.Image:
    decoded = decode_image(data, max_pixels=CONFIG.max_pixels)
    return decode(encode_image(decoded, decoded.rgb, CONFIG).data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_output_keeps_format_size_and_icc(fmt: str) -> None:
    photo = cv2.resize(astronaut(), (200, 120))
    output = roundtrip(encode(photo, fmt, icc_profile=PROFILE))
    assert output.format == fmt
    assert output.size == (200, 120)
    assert output.info.get("icc_profile") == PROFILE


def test_png_keeps_alpha_exactly() -> None:
    photo = cv2.resize(astronaut(), (64, 64))
    alpha = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    output = roundtrip(encode(np.dstack([photo, alpha]), "PNG"))
    assert output.mode == "RGBA"
    assert np.array_equal(np.asarray(output)[..., 3], alpha)


def test_webp_keeps_alpha() -> None:
    photo = cv2.resize(astronaut(), (64, 64))
    alpha = np.full((64, 64), 200, dtype=np.uint8)
    output = roundtrip(encode(np.dstack([photo, alpha]), "WEBP", lossless=True))
    assert output.mode == "RGBA"
    assert int(np.asarray(output)[10, 10, 3]) == 200


def test_grayscale_stays_grayscale() -> None:
    gray = cv2.cvtColor(cv2.resize(astronaut(), (64, 48)), cv2.COLOR_RGB2GRAY)
    assert roundtrip(encode(gray, "JPEG")).mode == "L"
    assert roundtrip(encode(gray, "PNG")).mode == "L"


def test_16_bit_png_comes_back_as_8_bit() -> None:
    ramp = np.linspace(0, 65535, 64 * 64).astype(np.uint16).reshape(64, 64)
    output = roundtrip(encode(ramp, "PNG"))
    assert output.mode == "L"
    assert np.asarray(output).max() == 255


def test_lossless_webp_stays_lossless_and_lossy_stays_lossy() -> None:
    photo = cv2.resize(astronaut(), (64, 64))
    lossless = decode_image(encode(photo, "WEBP", lossless=True), max_pixels=10**6)
    data = encode_image(lossless, lossless.rgb, CONFIG).data
    assert b"VP8L" in data[:64]
    assert np.array_equal(np.asarray(decode(data)), photo)
    lossy = decode_image(encode(photo, "WEBP", quality=70), max_pixels=10**6)
    assert b"VP8 " in encode_image(lossy, lossy.rgb, CONFIG).data[:64]


def test_jpeg_quality_setting_is_used() -> None:
    decoded = decode_image(encode(astronaut(), "JPEG", quality=95), max_pixels=10**6)
    low = encode_image(decoded, decoded.rgb, EngineConfig(jpeg_quality=30)).data
    high = encode_image(decoded, decoded.rgb, EngineConfig(jpeg_quality=95)).data
    assert len(low) < len(high) / 2


def test_content_type_and_extension() -> None:
    decoded = decode_image(encode(astronaut(), "WEBP"), max_pixels=10**6)
    encoded = encode_image(decoded, decoded.rgb, CONFIG)
    assert (encoded.content_type, encoded.extension) == ("image/webp", "webp")


@pytest.mark.parametrize("size", [(1200, 700), (300, 900), (100, 80)])
def test_preview_is_a_small_jpeg_with_the_same_shape(size: tuple[int, int]) -> None:
    photo = cv2.resize(astronaut(), size)
    decoded = decode_image(encode(photo, "PNG"), max_pixels=10**7)
    preview = decode(encode_preview(decoded, decoded.rgb).data)
    assert preview.format == "JPEG"
    assert max(preview.size) == min(PREVIEW_MAX_SIDE, max(size))  # never upscaled
    assert abs(preview.size[0] / preview.size[1] - size[0] / size[1]) < 0.02


def test_preview_flattens_transparency_on_white() -> None:
    photo = cv2.resize(astronaut(), (64, 64))
    transparent = np.zeros((64, 64), dtype=np.uint8)
    decoded = decode_image(encode(np.dstack([photo, transparent]), "PNG"), max_pixels=10**6)
    preview = np.asarray(decode(encode_preview(decoded, decoded.rgb).data))
    assert preview.min() > 240


def test_preview_keeps_icc_and_grayscale() -> None:
    gray = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2GRAY)
    decoded = decode_image(encode(gray, "JPEG"), max_pixels=10**6)
    assert decode(encode_preview(decoded, decoded.rgb).data).mode == "L"
    colour = decode_image(encode(astronaut(), "JPEG", icc_profile=PROFILE), max_pixels=10**6)
    preview = Image.open(io.BytesIO(encode_preview(colour, colour.rgb).data))
    assert preview.info.get("icc_profile") == PROFILE
