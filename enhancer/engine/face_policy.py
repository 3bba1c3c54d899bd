"""How each face is fed to Real-ESRGAN and how much of its change is kept.

Real-ESRGAN x4plus is a general super-resolution network, not a face model, and
the engine feeds it at most `face_input_max` (128) pixels per side. What it does
to a face depends on how far that face was shrunk to fit:

- shrunk a lot (a 500 px face fed at 128 px), the network smooths real texture it
  cannot resolve and over-sharpens the 1-2 px lower eyelid into a bright ring.
  The engine then keeps less of its change (the fidelity rises with the shrink)
  and clamps the result to the input's own local minimum and maximum;
- fed at about its own size (a small face), the network helps most;
- a large face whose fine detail is gone (sharpness.fine_detail_ratio below
  `soft_below`: shrunk about 4x and blown up again, its content lives at a
  quarter of its pixel size) is fed at that size, the size Real-ESRGAN x4plus
  is trained on, and at twice and three times it; the three results are
  averaged. On the heavy benchmark faces one pass at any single size gave at
  best +0.55 dB over the input, the average of the three +0.60 dB (+0.44 dB
  before issue 11; docs/quality.md). The threshold sits just below a mild
  face that is soft by nature and would lose 0.8 dB on this path.

Every number here was chosen with `bench/quality.py` (docs/quality.md has the
figures and what was tried and rejected).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FacePlan:
    """What the engine does with one face."""

    crop_size: int  # side of the crop fed to the restorer
    shrink: float  # native size / crop size (1 = fed at its own resolution)
    fidelity: float  # share of the original kept by the paste-back blend
    clamp_window: int  # 0, or the side (native pixels) of the local min/max clamp
    # More crops restored and averaged with the first (a soft face, see above).
    extra_crop_sizes: tuple[int, ...] = ()

    @property
    def crop_sizes(self) -> tuple[int, ...]:
        return (self.crop_size, *self.extra_crop_sizes)


@dataclass(frozen=True)
class FacePolicy:
    """The rules of face_plan; `adaptive=False` is the engine as it was before (the
    benchmark's reference): fidelity as asked, no clamp, fed at native size."""

    adaptive: bool = True
    # Fidelity: the share of the network's change kept, (1 - fidelity), is divided
    # by (shrink / fidelity_from) ** fidelity_power once the shrink passes fidelity_from.
    fidelity_from: float = 1.5
    fidelity_power: float = 1.0
    # Clamp to the input's local min/max (+- clamp_margin grey levels) over a
    # window of about clamp_fed_pixels fed pixels, when the shrink passes clamp_from.
    clamp_from: float = 2.0
    clamp_fed_pixels: float = 1.0
    clamp_margin: float = 3.0
    # Faces at most this many pixels are fed at feed_scale of their native size.
    small_face_max: int = 128
    feed_scale: float = 0.85
    # Soft faces (fine-detail ratio below soft_below, native size above
    # small_face_max): fed at native / each of soft_divisors (capped at the
    # restorer's crop size), results averaged, (1 - fidelity) times soft_keep kept.
    soft_below: float = 0.0145
    soft_divisors: tuple[float, ...] = (2.0, 3.0, 4.0)
    soft_keep: float = 0.93

    def measures_detail(self, native_size: float) -> bool:
        """Whether plan() looks at the fine-detail ratio for a face this large."""
        return self.adaptive and native_size > self.small_face_max

    def plan(
        self, native_size: float, crop_size: int, fidelity: float, detail: float = 1.0
    ) -> FacePlan:
        """`crop_size` is the restorer's choice; `fidelity` the request's (or default);
        `detail` the face's sharpness.fine_detail_ratio."""
        if not self.adaptive:
            return FacePlan(crop_size, max(1.0, native_size / crop_size), fidelity, 0)
        if detail < self.soft_below and native_size > self.small_face_max:
            sizes = sorted(
                {max(16, min(crop_size, round(native_size / d))) for d in self.soft_divisors},
                reverse=True,
            )
            keep = (1.0 - fidelity) * self.soft_keep
            # The quarter-size pass rings around the eyes like any face fed far
            # below its pixel size: clamp over about one of its fed pixels
            # (heavy benchmark: halo pixels 126 -> 91 for -0.003 dB).
            return FacePlan(
                sizes[0],
                native_size / sizes[0],
                1.0 - keep,
                self._clamp_window(native_size / sizes[-1]),
                extra_crop_sizes=tuple(sizes[1:]),
            )
        if self.feed_scale != 1.0 and native_size <= self.small_face_max:
            crop_size = max(16, min(crop_size, round(native_size * self.feed_scale)))
        shrink = max(1.0, native_size / crop_size)
        if shrink > self.fidelity_from:
            keep = (1.0 - fidelity) / (shrink / self.fidelity_from) ** self.fidelity_power
            fidelity = 1.0 - keep
        return FacePlan(crop_size, shrink, fidelity, self._clamp_window(shrink))

    def _clamp_window(self, shrink: float) -> int:
        if shrink <= self.clamp_from:
            return 0
        return 2 * math.ceil(shrink * self.clamp_fed_pixels / 2) + 1  # odd


ADAPTIVE = FacePolicy()
BEFORE = FacePolicy(adaptive=False)
