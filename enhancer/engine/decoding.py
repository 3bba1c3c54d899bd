"""Decoding uploaded bytes into pixels, refusing anything unsafe or unreadable.

The API validates uploads with the same function the worker uses, so a file
accepted at upload time is one the engine can process. The order of the checks
matters:

1. the format is identified from the bytes (never a file name or a client's
   content type), and Pillow may only use the JPEG, PNG and WebP decoders;
2. the dimensions are read from the header and checked against the pixel limit
   before a single pixel is decoded, so a decompression bomb costs nothing;
3. animated images are refused (see AnimatedImage): enhancing one frame and
   silently dropping the others would surprise the user more than a refusal;
4. the full decode runs with truncated images treated as errors.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps

from enhancer.engine.errors import (
    AnimatedImage,
    CorruptImage,
    EmptyImage,
    ImageTooLarge,
    UnsupportedFormat,
)

logger = logging.getLogger(__name__)

SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP")

# Signatures of formats we refuse, only to make the refusal message precise.
_OTHER_SIGNATURES = (
    (b"GIF87a", "a GIF"),
    (b"GIF89a", "a GIF"),
    (b"BM", "a BMP"),
    (b"II*\x00", "a TIFF"),
    (b"MM\x00*", "a TIFF"),
    (b"%PDF", "a PDF"),
)


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """An upload decoded to 8-bit pixels, with what is needed to encode it back.

    `rgb` always holds three channels, even for a grayscale image (the networks
    want RGB); `mode` says what the output must be ("L", "LA", "RGB", "RGBA").
    Pixel values are in the image's own colour space: the ICC profile is kept
    and written back, so no conversion is needed.
    """

    format: str
    width: int
    height: int
    mode: str
    rgb: np.ndarray = field(repr=False)
    alpha: np.ndarray | None = field(default=None, repr=False)
    icc_profile: bytes | None = field(default=None, repr=False)
    lossless: bool = False
    source_mode: str = ""
    notes: tuple[str, ...] = ()

    @property
    def has_alpha(self) -> bool:
        return self.alpha is not None

    @property
    def grayscale(self) -> bool:
        return self.mode in ("L", "LA")

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff_format(data: bytes) -> str:
    """The format named by the file's magic bytes, or raise UnsupportedFormat."""
    if not data:
        raise EmptyImage()
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in _OTHER_SIGNATURES:
        if data.startswith(signature):
            raise UnsupportedFormat(
                f"The file is {name} image; only JPEG, PNG and WebP are supported, "
                "convert it to one of those."
            )
    raise UnsupportedFormat()


def decode_image(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Decode JPEG, PNG or WebP bytes, or raise a specific ImageRejected."""
    fmt = sniff_format(data)
    notes: list[str] = []
    # Pillow warns about damaged metadata (and, at ~89 MP, about bombs, which
    # our own limit handles). Warnings must neither reach the logs of every
    # upload nor become errors under `-W error`: they are kept as notes.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = _open(data, fmt, max_pixels)
        icc_profile = image.info.get("icc_profile") or None
        source_mode = image.mode
        _load(image)
        try:
            # Malformed EXIF makes Pillow raise from several places: parsing,
            # tag types, a bad orientation value. Never let metadata sink an
            # upload; the pixels are then shown as stored.
            # In place: without an orientation to apply, a 40 MP image is not copied.
            ImageOps.exif_transpose(image, in_place=True)
        except Exception:
            notes.append("EXIF orientation could not be read and was ignored")
    notes.extend(
        str(w.message) for w in caught if not issubclass(w.category, Image.DecompressionBombWarning)
    )

    mode, rgb, alpha, icc_profile = _to_8bit_channels(image, icc_profile)
    height, width = rgb.shape[:2]
    return DecodedImage(
        format=fmt,
        width=width,
        height=height,
        mode=mode,
        rgb=rgb,
        alpha=alpha,
        icc_profile=icc_profile,
        lossless=fmt == "PNG" or (fmt == "WEBP" and _webp_is_lossless(data)),
        source_mode=source_mode,
        notes=tuple(notes),
    )


def _open(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as e:
        # Pillow's own hard limit (~178 MP) fired before ours could.
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(found.group(1)) / 1e6:.1f} MP" if found else "too many pixels"
        raise ImageTooLarge(
            f"The image has {size} and the limit is {max_pixels / 1e6:.1f} MP; "
            "reduce its dimensions and try again."
        ) from None
    except Exception:
        # Right magic bytes, unreadable header: treat as damaged.
        raise CorruptImage() from None
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImage()
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} MP) and the "
            f"limit is {max_pixels / 1e6:.1f} MP; reduce its dimensions and try again."
        )
    if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
        raise AnimatedImage()
    return image


def _load(image: Image.Image) -> None:
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a global someone else may have flipped
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        image.load()
    except Exception:
        # OSError("image file is truncated"), SyntaxError (bad PNG chunk),
        # zlib and struct errors: all mean the bytes are not a whole image.
        raise CorruptImage() from None


def _to_8bit_channels(
    image: Image.Image, icc_profile: bytes | None
) -> tuple[str, np.ndarray, np.ndarray | None, bytes | None]:
    """(output mode, RGB uint8, alpha uint8 or None, ICC profile to write back)."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grayscale PNG. Pillow's convert("L") clips at 255, turning
        # almost every pixel white; scale the full range instead.
        wide = np.asarray(image).astype(np.uint32)
        np.clip(wide, 0, 65535, out=wide)
        gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)
        return "L", _gray_to_rgb(gray), None, icc_profile
    if mode == "1":
        image, mode = image.convert("L"), "L"
    if mode in ("La", "PA") or (mode == "P" and "transparency" in image.info):
        image = image.convert("LA" if mode == "La" else "RGBA")
        mode = image.mode
    if mode == "RGBa":
        image, mode = image.convert("RGBA"), "RGBA"
    if mode == "CMYK":
        return "RGB", _cmyk_to_rgb(image, icc_profile), None, _srgb_profile(icc_profile)
    if mode == "L":
        return "L", _gray_to_rgb(np.asarray(image)), None, icc_profile
    if mode == "LA":
        pixels = np.asarray(image)
        return "LA", _gray_to_rgb(pixels[..., 0]), pixels[..., 1].copy(), icc_profile
    if mode == "RGBA":
        pixels = np.asarray(image)
        return "RGBA", np.ascontiguousarray(pixels[..., :3]), pixels[..., 3].copy(), icc_profile
    if mode != "RGB":  # P without transparency, YCbCr, LAB, ...
        image = image.convert("RGB")
    # asarray already owns a fresh buffer (read-only, which suits a decoded
    # image): copying it again would cost one more full image of memory.
    return "RGB", np.asarray(image), None, icc_profile


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


def _cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> np.ndarray:
    """CMYK (print JPEGs) to RGB, through the embedded profile when there is one.

    A CMYK profile cannot describe RGB pixels, so the output carries sRGB.
    """
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return np.asarray(converted)
        except Exception as e:  # a broken profile: fall back to the naive conversion
            logger.info("CMYK profile unusable, converting without it: %s", e)
    return np.asarray(image.convert("RGB"))


def _srgb_profile(icc_profile: bytes | None) -> bytes | None:
    if not icc_profile:
        return None
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _webp_is_lossless(data: bytes) -> bool:
    """True if the WebP bitstream is VP8L (lossless); walks the RIFF chunks."""
    offset = 12
    while offset + 8 <= len(data):
        fourcc = data[offset : offset + 4]
        if fourcc == b"VP8L":
            return True
        if fourcc == b"VP8 ":
            return False
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    return False
