"""Test images built from scikit-image's real photographs, as encoded bytes."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image
from skimage import data

# Where each astronaut of the collage is pasted: (x, y, side). Largest first.
COLLAGE_TILES = ((10, 10, 280), (320, 40, 210), (560, 70, 150))
COLLAGE_SIZE = (730, 300)  # width, height


def astronaut() -> np.ndarray:
    """The astronaut portrait, 512x512 RGB; her face is near (182, 58)-(270, 178)."""
    return data.astronaut()


def coffee() -> np.ndarray:
    """A cup of coffee: a real photograph with no person in it."""
    return data.coffee()


def collage() -> np.ndarray:
    """Three astronauts of decreasing size on a grey canvas: three faces."""
    width, height = COLLAGE_SIZE
    canvas = np.full((height, width, 3), 128, dtype=np.uint8)
    for x, y, side in COLLAGE_TILES:
        tile = cv2.resize(astronaut(), (side, side), interpolation=cv2.INTER_AREA)
        canvas[y : y + side, x : x + side] = tile
    return canvas


def encode(pixels: np.ndarray, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **params)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
