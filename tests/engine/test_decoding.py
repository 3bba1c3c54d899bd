"""Decoding uploads: what is accepted, how it is normalised, and every refusal.

Every bad file is built here, from real photographs or by hand.
"""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from enhancer.engine import (
    AnimatedImage,
    CorruptImage,
    EmptyImage,
    ImageRejected,
    ImageTooLarge,
    UnsupportedFormat,
    decode_image,
)
from tests.engine.images import astronaut, encode

MAX = 40_000_000


def small_photo() -> np.ndarray:
    return cv2.resize(astronaut(), (96, 64), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_supported_formats_decode_to_rgb(fmt: str) -> None:
    decoded = decode_image(encode(small_photo(), fmt), max_pixels=MAX)
    assert (decoded.format, decoded.width, decoded.height) == (fmt, 96, 64)
    assert decoded.mode == "RGB"
    assert decoded.rgb.shape == (64, 96, 3) and decoded.rgb.dtype == np.uint8
    assert not decoded.has_alpha


def test_format_comes_from_the_bytes_not_the_name() -> None:
    # The API never passes a name; a PNG is a PNG whatever it was called.
    assert decode_image(encode(small_photo(), "PNG"), max_pixels=MAX).format == "PNG"


def test_empty_file_is_refused() -> None:
    with pytest.raises(EmptyImage) as info:
        decode_image(b"", max_pixels=MAX)
    assert "empty" in info.value.message


def test_text_named_png_is_refused() -> None:
    with pytest.raises(UnsupportedFormat) as info:
        decode_image(b"I am a text file, named photo.png by someone.\n", max_pixels=MAX)
    assert "JPEG, PNG or WebP" in info.value.message


def test_truncated_jpeg_is_refused() -> None:
    data = encode(astronaut(), "JPEG", quality=90)
    with pytest.raises(CorruptImage) as info:
        decode_image(data[: len(data) // 2], max_pixels=MAX)
    assert "incomplete" in info.value.message


def test_truncated_png_is_refused() -> None:
    data = encode(astronaut(), "PNG")
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) * 2 // 3], max_pixels=MAX)


def test_garbage_after_a_jpeg_signature_is_refused() -> None:
    with pytest.raises(CorruptImage):
        decode_image(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, max_pixels=MAX)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def test_png_bomb_is_refused_before_decoding() -> None:
    # 40000 x 40000 one-bit pixels: 1.6 gigapixels, a few hundred KB on disk.
    side = 40_000
    row = b"\x00" + bytes(side // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    assert len(data) < 1_000_000
    with pytest.raises(ImageTooLarge) as info:
        decode_image(data, max_pixels=MAX)
    assert "1600.0 MP" in info.value.message
    assert "limit is 40.0 MP" in info.value.message


def test_image_over_the_configured_limit_names_its_size() -> None:
    data = encode(np.zeros((300, 400), dtype=np.uint8), "PNG")
    with pytest.raises(ImageTooLarge) as info:
        decode_image(data, max_pixels=100_000)
    assert "400x300" in info.value.message
    assert "limit is 0.1 MP" in info.value.message


def test_pixel_limit_is_inclusive() -> None:
    data = encode(small_photo(), "PNG")  # 96 x 64 = 6144 pixels
    assert decode_image(data, max_pixels=6144).width == 96
    with pytest.raises(ImageTooLarge):
        decode_image(data, max_pixels=6143)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = np.zeros((32, 32, 4), dtype=np.uint8)
    cmyk[..., 1] = cmyk[..., 2] = 255  # full magenta and yellow: red
    buffer = io.BytesIO()
    Image.frombytes("CMYK", (32, 32), cmyk.tobytes()).save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    decoded = decode_image(data, max_pixels=MAX)
    assert decoded.mode == "RGB"
    red, green, blue = decoded.rgb[16, 16].astype(int)
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_grayscale_png_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 256 * 16).astype(np.uint16).reshape(16, 256)
    data = encode(ramp, "PNG")
    decoded = decode_image(data, max_pixels=MAX)
    assert decoded.source_mode.startswith("I")
    assert decoded.mode == "L"
    gray = decoded.rgb[..., 0]
    assert gray.min() == 0 and gray.max() == 255
    # Clipping would make almost everything 255; scaling keeps the ramp.
    assert abs(float(gray.mean()) - 127.5) < 1.5
    assert np.all(np.diff(gray.astype(int), axis=1) >= 0)


def test_16_bit_rgb_png_is_scaled() -> None:
    pixels = np.zeros((8, 8, 3), dtype=np.uint16)
    pixels[..., 0] = 65535  # OpenCV writes BGR: this is blue
    pixels[..., 2] = 32896  # red at 50%
    ok, buffer = cv2.imencode(".png", pixels)
    assert ok
    decoded = decode_image(buffer.tobytes(), max_pixels=MAX)
    assert decoded.mode == "RGB"
    assert tuple(decoded.rgb[0, 0]) == (128, 0, 255)


def test_rgba_keeps_its_alpha() -> None:
    rgba = np.dstack([small_photo(), np.tile(np.arange(96, dtype=np.uint8) * 2, (64, 1))])
    decoded = decode_image(encode(rgba, "PNG"), max_pixels=MAX)
    assert decoded.mode == "RGBA" and decoded.has_alpha
    assert decoded.alpha is not None
    assert np.array_equal(decoded.alpha, rgba[..., 3])
    assert np.array_equal(decoded.rgb, rgba[..., :3])


def test_grayscale_stays_grayscale() -> None:
    gray = cv2.cvtColor(small_photo(), cv2.COLOR_RGB2GRAY)
    decoded = decode_image(encode(gray, "JPEG"), max_pixels=MAX)
    assert decoded.mode == "L" and decoded.grayscale
    assert decoded.rgb.shape == (64, 96, 3)  # three equal channels for the networks


def test_grayscale_with_alpha_stays_so() -> None:
    gray = cv2.cvtColor(small_photo(), cv2.COLOR_RGB2GRAY)
    alpha = np.full_like(gray, 77)
    decoded = decode_image(encode(np.dstack([gray, alpha]), "PNG"), max_pixels=MAX)
    assert decoded.mode == "LA"
    assert decoded.alpha is not None and int(decoded.alpha[0, 0]) == 77


def test_palette_with_transparency_becomes_rgba() -> None:
    image = Image.fromarray(small_photo()).convert("P", palette=Image.Palette.ADAPTIVE)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    decoded = decode_image(buffer.getvalue(), max_pixels=MAX)
    assert decoded.mode == "RGBA" and decoded.has_alpha


def exif_with_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def test_exif_orientation_is_applied() -> None:
    # 60 wide, 40 high, a red square in the top-left corner as stored.
    pixels = np.zeros((40, 60, 3), dtype=np.uint8)
    pixels[..., 2] = 200
    pixels[:12, :12] = (255, 0, 0)
    data = encode(pixels, "JPEG", quality=95, exif=exif_with_orientation(6))
    decoded = decode_image(data, max_pixels=MAX)
    # Orientation 6: the camera was turned; shown rotated 90 degrees clockwise.
    assert (decoded.width, decoded.height) == (40, 60)
    assert decoded.rgb[3, 36, 0] > 200  # the red corner is now top-right
    assert decoded.rgb[3, 3, 0] < 60


@pytest.mark.parametrize(
    "exif",
    [
        exif_with_orientation(9),  # not a valid orientation
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",  # first directory far past the end
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\xff\xff\xff\xff",
    ],
)
def test_malformed_exif_does_not_sink_the_upload(exif: bytes) -> None:
    data = encode(small_photo(), "JPEG", exif=exif)
    decoded = decode_image(data, max_pixels=MAX)
    assert (decoded.width, decoded.height) in ((96, 64), (64, 96))
    assert decoded.rgb.shape[2] == 3


def test_icc_profile_is_kept() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(small_photo(), "JPEG", icc_profile=profile)
    assert decode_image(data, max_pixels=MAX).icc_profile == profile


def frames() -> list[Image.Image]:
    photo = Image.fromarray(small_photo())
    return [photo, photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]


def animated(fmt: str) -> bytes:
    first, *rest = frames()
    buffer = io.BytesIO()
    first.save(buffer, fmt, save_all=True, append_images=rest, duration=100, loop=0)
    return buffer.getvalue()


def test_animated_webp_is_refused() -> None:
    with pytest.raises(AnimatedImage) as info:
        decode_image(animated("WEBP"), max_pixels=MAX)
    assert "single still frame" in info.value.message


def test_animated_png_is_refused() -> None:
    with pytest.raises(AnimatedImage):
        decode_image(animated("PNG"), max_pixels=MAX)


def test_animated_gif_is_refused_as_unsupported() -> None:
    # GIF is not a supported format at all, animated or not.
    with pytest.raises(UnsupportedFormat) as info:
        decode_image(animated("GIF"), max_pixels=MAX)
    assert "GIF" in info.value.message


def test_webp_lossless_is_recognised() -> None:
    lossless = decode_image(encode(small_photo(), "WEBP", lossless=True), max_pixels=MAX)
    lossy = decode_image(encode(small_photo(), "WEBP", quality=80), max_pixels=MAX)
    assert lossless.lossless and not lossy.lossless


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"\xff\xd8\xff\xe0garbage", b"\x89PNG\r\n\x1a\n\x00\x00", b"GIF89a..."],
)
def test_refusals_speak_to_the_user(data: bytes) -> None:
    with pytest.raises(ImageRejected) as info:
        decode_image(data, max_pixels=MAX)
    message = info.value.message
    assert message.endswith(".")
    for internal in ("PIL", "Pillow", "Traceback", "Errno", "cannot identify"):
        assert internal not in message
