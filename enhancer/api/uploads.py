"""Reading `uploadedImage` from a multipart body without trusting its size or name.

The web process checks an image by its header alone (image_header): format,
dimensions, frames and the pixel limit, without decoding a pixel, so a
40 MP upload costs the web its bytes, not the ~250 MB of its pixels. The
worker decodes it in full; a file damaged past its header fails its process
there with the engine's message.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file data, so without a
limit a client could stream gigabytes into a temporary file. UploadLimit sits
in front of Django's own upload handlers: it passes on the first file of the
expected field up to the limit, and discards every other file and anything
past the limit (they are still read off the socket, but never stored),
remembering why for the error message.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.text import get_valid_filename
from PIL import Image

from enhancer.engine import AnimatedImage, CorruptImage, ImageTooLarge
from enhancer.engine.decoding import sniff_format


class UploadLimit(FileUploadHandler):
    def __init__(self, *, field_name: str, max_bytes: int) -> None:
        super().__init__()
        self.expected_field = field_name
        self.max_bytes = max_bytes
        self.exceeded = False  # the expected file was larger than max_bytes
        self.repeated = False  # the expected field came more than once
        self._seen = 0
        self._passing = False

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        if field_name == self.expected_field:
            self._seen += 1
            self.repeated = self._seen > 1
        self._passing = field_name == self.expected_field and self._seen == 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        # Returning None keeps the chunk from the handlers after this one, which
        # store it. (Not SkipFile: Django then closes the files of every
        # handler, including the expected file already received.)
        if not self._passing:
            return None
        if start + len(raw_data) > self.max_bytes:
            self.exceeded = True
            self._passing = False
            return None
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def safe_file_name(name: str | None, default: str = "image") -> str:
    """The client's file name reduced to something safe in a header or a path."""
    stem = PurePath((name or "").replace("\\", "/")).name
    try:
        return get_valid_filename(stem)[:200]
    except SuspiciousFileOperation:  # "", "." or ".." once cleaned
        return default


def download_file_name(upload_name: str, extension: str, *, preview: bool) -> str:
    """ "portrait.png" -> "portrait-enhanced.png" (or "-enhanced-preview.jpg")."""
    stem = PurePath(upload_name).stem or "image"
    suffix = "-enhanced-preview" if preview else "-enhanced"
    return f"{stem}{suffix}.{extension.lstrip('.')}"


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "JPEG", "PNG" or "WEBP", from the bytes
    width: int
    height: int


def image_header(data: bytes, *, max_pixels: int) -> ImageHeader:
    """What the header says, checked as the engine checks it; no pixel is decoded.

    Raises the engine's ImageRejected errors (same messages as the worker's
    decoder): not JPEG, PNG or WebP, an unreadable header, over `max_pixels`,
    or animated. Pillow's Image.open reads only the header; load() is never
    called here.
    """
    fmt = sniff_format(data)
    too_large = "and the limit is {:.1f} MP; reduce its dimensions and try again."
    with warnings.catch_warnings():
        # Pillow's bomb and metadata warnings: the limit below is ours.
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError:
            # Pillow's own hard limit (~178 MP), above any limit of ours.
            raise ImageTooLarge(
                "The image has more than 178 MP " + too_large.format(max_pixels / 1e6)
            ) from None
        except Exception:
            raise CorruptImage() from None  # right magic bytes, unreadable header
        width, height = image.size
        if width < 1 or height < 1:
            raise CorruptImage()
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} MP) "
                + too_large.format(max_pixels / 1e6)
            )
        if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
            raise AnimatedImage()
    return ImageHeader(format=fmt, width=width, height=height)
