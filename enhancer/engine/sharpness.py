"""How much fine detail a face still has: where its real information lives.

A face that was shrunk 4x, noised, JPEG'd and scaled back up (a thumbnail
blown up, a heavily compressed copy of a copy) spans many pixels but holds
about a quarter of them: above a frequency of 1/8 cycle per pixel there is
almost nothing left. Real-ESRGAN x4plus is built for exactly such images when
it is given them at the size where their content lives, so the engine feeds
those faces smaller (face_policy.py).

The measure is the power spectrum of the face's centre (the middle half of its
aligned crop at native resolution: eyes, nose, mouth, no background): the mean
power between 1/8 and 1/4 cycle per pixel over the mean power between 1/16 and
1/8. On the benchmark's faces (bench/quality.py, docs/quality.md) it is
0.003-0.022 for the heavy degradation (4x down), 0.012-0.056 for the mild one
(2x down), 0.028-0.205 for the clean photos and 0.039-0.49 for the faces of
`make bench`'s real photos.
"""

from __future__ import annotations

import cv2
import numpy as np

from enhancer.engine.alignment import Alignment, crop

# Larger faces are measured on a reduced crop: the ratio is about a face that
# is large anyway, and the FFT of a 1000 px crop would cost more than it tells.
MAX_MEASURED_SIZE = 1024


def fine_detail_ratio(rgb: np.ndarray, alignment: Alignment) -> float:
    """Power at 1/8-1/4 cycle per pixel over power at 1/16-1/8, on the face's centre."""
    size = int(min(MAX_MEASURED_SIZE, max(16, round(alignment.native_size))))
    face = crop(rgb, alignment, size)
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    side = size // 2
    start = size // 4
    centre = grey[start : start + side, start : start + side]
    window = np.hanning(side)[:, None] * np.hanning(side)[None, :]
    power = np.abs(np.fft.fft2((centre - centre.mean()) * window)) ** 2
    frequencies = np.fft.fftfreq(side)
    radius = np.sqrt(frequencies[:, None] ** 2 + frequencies[None, :] ** 2)
    fine = power[(radius >= 1 / 8) & (radius < 1 / 4)]
    coarse = power[(radius >= 1 / 16) & (radius < 1 / 8)]
    if fine.size == 0 or coarse.size == 0 or coarse.mean() <= 0:
        return 1.0  # too small or flat to tell: treat as detailed (the default path)
    return float(fine.mean() / coarse.mean())
