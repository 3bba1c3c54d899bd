"""Putting a restored face back into the image: aria mask, fidelity, inverse warp.

ariaRatio, precisely
--------------------
The enhanced area of a face is an ellipse in the aligned crop's own frame (the
FFHQ framing, so it turns and scales with the face). With u, v the crop
coordinates scaled to 0..1 (eyes at v = 0.47, mouth at v = 0.72, chin near
v = 0.87), the ellipse for ratio t in 0..1 has

    centre     (0.5, 0.60 + t * (0.50 - 0.60))
    semi-axes  (0.27 + t * (0.50 - 0.27), 0.29 + t * (0.50 - 0.29))

so t = 0 is the inner face (brows to chin, cheek to cheek: the eyes, nose and
mouth) and t = 1 is the largest ellipse inside the crop: the whole head with hair
and some background. Each ellipse contains every smaller one, so a larger
ratio never enhances fewer pixels.

The mask weight at a point at normalised elliptical radius r (r = 1 on the
ellipse) is smoothstep((1 - r) / FEATHER): 1 well inside, falling smoothly to
exactly 0 on the ellipse. The feather band (the outer 35% of the radius) is
wide enough that no edge shows, and the weight is exactly zero outside, so
pixels there are bit-for-bit the input's.

Fidelity and colour
-------------------
The network's contribution is its detail only: the difference between the
restored and the original face, minus that difference's low frequencies (a
Gaussian of sigma = 1/16 of the face's FFHQ frame). So colour and shading stay
the original's and there is no colour shift. Each pixel then becomes

    original + w * (1 - f) * detail

with w the mask weight and f the fidelity: f = 0 takes the network's detail
fully, f = 1 changes nothing, in between the original's own texture stays in
proportion.
"""

from __future__ import annotations

import cv2
import numpy as np

from enhancer.engine.alignment import Alignment

FEATHER = 0.35
COLOUR_SIGMA = 1 / 16
_INNER_CENTRE, _OUTER_CENTRE = (0.5, 0.60), (0.5, 0.5)
_INNER_AXES, _OUTER_AXES = (0.27, 0.29), (0.5, 0.5)


def aria_ellipse(ratio: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """((cx, cy), (ax, ay)) of the enhanced area in unit crop coordinates."""
    centre = tuple(a + ratio * (b - a) for a, b in zip(_INNER_CENTRE, _OUTER_CENTRE, strict=True))
    axes = tuple(a + ratio * (b - a) for a, b in zip(_INNER_AXES, _OUTER_AXES, strict=True))
    return (centre[0], centre[1]), (axes[0], axes[1])


def aria_mask(size: int, ratio: float) -> np.ndarray:
    """(size, size) float32 weights in 0..1 for a crop of `size` pixels."""
    (cx, cy), (ax, ay) = aria_ellipse(ratio)
    # Pixel centres, in unit coordinates.
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    dx = ((coords - cx) / ax) ** 2
    dy = ((coords - cy) / ay) ** 2
    radius = np.sqrt(dy[:, None] + dx[None, :])
    t = np.clip((1.0 - radius) / FEATHER, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def lowpass(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; wide ones run on a reduced copy (same result, far cheaper)."""
    factor = int(sigma // 2)
    height, width = pixels.shape[:2]
    if factor < 2 or min(height, width) < 4 * factor:
        return cv2.GaussianBlur(pixels, (0, 0), sigma)
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(pixels, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def paste_face(
    image: np.ndarray,
    alignment: Alignment,
    restored: np.ndarray,
    *,
    aria_ratio: float,
    fidelity: float,
    clamp_window: int = 0,
    clamp_margin: float = 3.0,
) -> tuple[int, int, int, int] | None:
    """Blend `restored` (an aligned crop, any size) into `image` in place.

    With `clamp_window` (odd, image pixels) each result pixel stays within the
    input's own minimum and maximum over that window, +- `clamp_margin` grey
    levels: no new bright or dark rings (see face_policy.py).

    Returns the box of the image that may have changed, or None if the face's
    crop lies outside the image.
    """
    height, width = image.shape[:2]
    x0, y0, x1, y1 = alignment.bounds(width, height)
    if x1 <= x0 or y1 <= y0:
        return None
    # Bring the restored crop to about the face's own resolution first, with
    # area averaging; the inverse warp is then close to 1:1 and its bilinear
    # sampling cannot alias. A face larger than the restorer's output is
    # instead upsampled by the warp itself.
    size = int(min(restored.shape[0], max(16, round(alignment.native_size))))
    if size < restored.shape[0]:
        restored = cv2.resize(restored, (size, size), interpolation=cv2.INTER_AREA)
    # Crop -> region of interest: invert image -> crop and shift by the ROI.
    to_crop = alignment.matrix(size).copy()
    to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], dtype=np.float64)
    roi_size = (x1 - x0, y1 - y0)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    face = cv2.warpAffine(restored, to_crop, roi_size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.warpAffine(
        aria_mask(size, aria_ratio), to_crop, roi_size, flags=flags, borderValue=0.0
    )

    region = image[y0:y1, x0:x1]
    original = region.astype(np.float32)
    # The network's change, minus its low frequencies: the original keeps its
    # colour and shading (Real-ESRGAN darkens faces slightly), the network
    # contributes detail. Blurring is linear, so blurring the difference once
    # equals blurring both images.
    change = face.astype(np.float32) - original
    change -= lowpass(change, max(1.0, alignment.native_size * COLOUR_SIGMA))
    # original + w * (1 - f) * change: where w is 0 the pixel stays exactly as it was.
    strength = weight * (1.0 - fidelity)
    blended = original + strength[..., None] * change
    if clamp_window > 1:
        kernel = np.ones((clamp_window, clamp_window), np.uint8)
        low = cv2.erode(original, kernel, borderType=cv2.BORDER_REPLICATE) - clamp_margin
        high = cv2.dilate(original, kernel, borderType=cv2.BORDER_REPLICATE) + clamp_margin
        blended = np.clip(blended, low, high)
    region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return x0, y0, x1, y1
