"""Similarity alignment of a face onto the FFHQ five-point template.

The restoration networks (GFPGAN, CodeFormer, GPEN, and Real-ESRGAN used as a
face restorer here) work best on faces framed the FFHQ way: eyes level, at a
fixed place and scale. A similarity transform (rotation, uniform scale,
translation) from the five detected landmarks onto the template gives that
framing without distorting the face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# FFHQ template for a 512x512 crop: left eye, right eye, nose tip, left and
# right mouth corner (x, y), as used by GFPGAN, CodeFormer and facexlib.
FFHQ_TEMPLATE_512 = np.array(
    [
        (192.98138, 239.94708),
        (318.90277, 240.19360),
        (256.63416, 314.01935),
        (201.26117, 371.41043),
        (313.08905, 371.15118),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True, eq=False)
class Alignment:
    """Where one face's aligned crop sits in the image.

    `to_template` maps image pixels onto the 512x512 template frame; a crop of
    any size S uses it scaled by S / 512. `native_size` is how many image pixels
    the crop spans per side: the face's own resolution.
    """

    to_template: np.ndarray  # 2x3 affine, image -> 512 template frame

    @property
    def native_size(self) -> float:
        scale = float(np.sqrt(abs(np.linalg.det(self.to_template[:, :2]))))
        return 512.0 / scale

    def matrix(self, size: int) -> np.ndarray:
        """Image -> crop of `size` x `size` pixels."""
        return self.to_template * (size / 512.0)

    def bounds(self, image_width: int, image_height: int) -> tuple[int, int, int, int]:
        """Integer box (x0, y0, x1, y1) of the image covered by the crop, clipped."""
        inverse = cv2.invertAffineTransform(self.to_template)
        corners = np.array([(0, 0, 1), (512, 0, 1), (0, 512, 1), (512, 512, 1)], np.float64)
        points = corners @ inverse.T
        x0, y0 = np.floor(points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0)).astype(int)
        return max(0, x0), max(0, y0), min(image_width, x1 + 1), min(image_height, y1 + 1)


def align(landmarks: np.ndarray) -> Alignment:
    """The similarity transform taking five landmarks (5, 2) onto the template."""
    matrix, _ = cv2.estimateAffinePartial2D(
        landmarks.astype(np.float64), FFHQ_TEMPLATE_512, method=cv2.LMEDS
    )
    if matrix is None:  # degenerate landmarks (all on a line): fall back to least squares
        matrix = _least_squares_similarity(landmarks, FFHQ_TEMPLATE_512)
    return Alignment(to_template=matrix)


def crop(rgb: np.ndarray, alignment: Alignment, size: int) -> np.ndarray:
    """The aligned face, `size` x `size`, without upsampling beyond the native size.

    When the face is larger than `size`, it is first warped at its native
    resolution and then reduced with area averaging: warping straight to a much
    smaller size would alias (warpAffine samples, it does not average).
    """
    native = max(size, round(alignment.native_size))
    if native <= size * 1.25:
        return _warp(rgb, alignment.matrix(size), size)
    # warpAffine's cost follows the destination size, not the source's.
    face = _warp(rgb, alignment.matrix(native), native)
    return cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)


def _warp(rgb: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    # BORDER_REPLICATE: a face at the image edge gets smeared edge pixels
    # instead of black, which the networks would try to "restore".
    return cv2.warpAffine(
        rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _least_squares_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Umeyama-style closed form without scale checks, for the degenerate case."""
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    denominator = float((src**2).sum()) or 1.0
    a = float((src * dst).sum()) / denominator
    b = float((src[:, 0] * dst[:, 1] - src[:, 1] * dst[:, 0]).sum()) / denominator
    rotation = np.array([[a, -b], [b, a]])
    translation = dst_mean - rotation @ src_mean
    return np.hstack([rotation, translation[:, None]])
