"""The Enhancer: decode -> detect -> select -> align -> restore -> paste back -> encode.

One Enhancer per process and configuration (get_enhancer), its models loaded on
first use and shared by every thread: the Celery worker, the CLI and the tests
all go through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np

from enhancer.engine.alignment import Alignment, align, crop
from enhancer.engine.config import EngineConfig, EnhanceOptions
from enhancer.engine.decoding import decode_image
from enhancer.engine.detection import Face, FaceDetector, select_largest
from enhancer.engine.encoding import encode_image, encode_preview
from enhancer.engine.face_policy import ADAPTIVE, BEFORE, FacePlan, FacePolicy
from enhancer.engine.paste_back import paste_face
from enhancer.engine.progress import ProgressPlan
from enhancer.engine.restoration import RealEsrganRestorer, Restorer, build_restorer
from enhancer.engine.sharpness import fine_detail_ratio

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class FaceReport:
    """One detected face as the client sees it."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in output pixels
    score: float
    enhanced: bool
    # Side of the square crop fed to the restorer (0 if skipped); for benchmarks.
    input_size: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"box": list(self.box), "score": round(self.score, 4), "enhanced": self.enhanced}


@dataclass(frozen=True)
class EnhanceResult:
    image_bytes: bytes
    preview_bytes: bytes
    format: str  # "JPEG" | "PNG" | "WEBP"
    content_type: str
    extension: str
    width: int
    height: int
    faces: list[FaceReport]
    faces_detected: int
    faces_enhanced: int
    # Seconds per stage: decode, detect, align, restore, paste, encode, total.
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The JSON summary (camelCase, like the API); no image bytes."""
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "facesDetected": self.faces_detected,
            "facesEnhanced": self.faces_enhanced,
            "faces": [face.to_dict() for face in self.faces],
            "timings": {name: round(seconds, 4) for name, seconds in self.timings.items()},
        }


class Enhancer:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.detector = FaceDetector(
            threshold=config.detection_threshold,
            min_face_size=config.min_face_size,
            max_side=config.detection_max_side,
            threads=config.thread_count,
        )
        self.restorer: Restorer = build_restorer(config)
        # None: ADAPTIVE for Real-ESRGAN, the request's fidelity as it is for
        # other restorers (face models fed at their own size); set for benchmarks.
        self.policy: FacePolicy | None = None

    def load(self) -> None:
        """Load every model now, e.g. when a worker starts, instead of on the first job."""
        self.detector.load()
        self.restorer.load()

    def enhance(
        self, data: bytes, options: EnhanceOptions, progress: ProgressCallback | None = None
    ) -> EnhanceResult:
        """Enhance the faces in an encoded image; raises EngineError subclasses.

        `progress` receives increasing integers from 0 to 100 (100 last, once).
        An exception it raises aborts the work (a way to cancel a job).
        """
        options.validate(self.config)
        fidelity = self.config.fidelity if options.fidelity is None else float(options.fidelity)
        plan = ProgressPlan(progress)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        plan.report(0)

        with _timed(timings, "decode"):
            decoded = decode_image(data, max_pixels=self.config.max_pixels)
        plan.finish_stage("decode")

        with _timed(timings, "detect"):
            faces = self.detector.detect(decoded.rgb)
            chosen, skipped = select_largest(faces, options.max_face_count)
        plan.finish_stage("detect")

        rgb = decoded.rgb.copy()  # faces are cropped from the original, pasted here
        timings.update(align=0.0, restore=0.0, paste=0.0)
        with _timed(timings, "align"):
            alignments = [align(face.landmarks) for face in chosen]
            plans = [self.plan_face(decoded.rgb, a, fidelity) for a in alignments]
        plan.plan_faces([sum(size * size for size in p.crop_sizes) for p in plans])
        reports: dict[int, FaceReport] = {}
        for face, alignment, face_plan in zip(chosen, alignments, plans, strict=True):
            enhanced = self.enhance_face(
                decoded.rgb,
                rgb,
                alignment,
                face_plan,
                aria_ratio=options.aria_ratio,
                timings=timings,
            )
            reports[id(face)] = _report(face, enhanced=enhanced, input_size=face_plan.crop_size)
            plan.finish_face()
        for face in skipped:
            reports[id(face)] = _report(face, enhanced=False, input_size=0)

        with _timed(timings, "encode"):
            output = encode_image(decoded, rgb, self.config)
            preview = encode_preview(decoded, rgb)
        timings["total"] = time.perf_counter() - started
        plan.report(100)

        # Faces left to right (how people name who is in a photo), not by size.
        ordered = sorted(faces, key=lambda f: (f.box[0], f.box[1]))
        face_reports = [reports[id(face)] for face in ordered]
        return EnhanceResult(
            image_bytes=output.data,
            preview_bytes=preview.data,
            format=output.format,
            content_type=output.content_type,
            extension=output.extension,
            width=decoded.width,
            height=decoded.height,
            faces=face_reports,
            faces_detected=len(faces),
            faces_enhanced=sum(1 for report in face_reports if report.enhanced),
            timings=timings,
        )

    def plan_face(self, source: np.ndarray, alignment: Alignment, fidelity: float) -> FacePlan:
        """Crop sizes, fidelity and clamp for one face of `source` (see face_policy.py)."""
        policy = self.policy
        if policy is None:
            policy = ADAPTIVE if isinstance(self.restorer, RealEsrganRestorer) else BEFORE
        native = alignment.native_size
        detail = fine_detail_ratio(source, alignment) if policy.measures_detail(native) else 1.0
        return policy.plan(native, self.restorer.crop_size(native), fidelity, detail)

    def enhance_face(
        self,
        source: np.ndarray,
        target: np.ndarray,
        alignment: Alignment,
        face_plan: FacePlan,
        *,
        aria_ratio: float,
        timings: dict[str, float] | None = None,
    ) -> bool:
        """Restore one face of `source` (RGB) into `target` in place; False if
        its crop lies outside the image. The benchmark calls this directly."""
        timings = {} if timings is None else timings
        with _timed(timings, "align"):
            crops = [crop(source, alignment, size) for size in face_plan.crop_sizes]
        with _timed(timings, "restore"):
            restored = [self.restorer.restore(pixels, face_plan.fidelity) for pixels in crops]
        with _timed(timings, "paste"):
            face = restored[0] if len(restored) == 1 else _average(restored, alignment)
            blend = 0.0 if self.restorer.applies_fidelity else face_plan.fidelity
            pasted = paste_face(
                target,
                alignment,
                face,
                aria_ratio=aria_ratio,
                fidelity=blend,
                clamp_window=face_plan.clamp_window,
            )
        return pasted is not None


def _average(restored: list[np.ndarray], alignment: Alignment) -> np.ndarray:
    """The mean of several restorations of one face, at about its native size
    (no larger than the largest restoration): what paste_face would reduce each to."""
    size = int(min(max(r.shape[0] for r in restored), max(16, round(alignment.native_size))))
    total = np.zeros((size, size, 3), np.float32)
    for pixels in restored:
        shrinking = pixels.shape[0] > size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        total += cv2.resize(pixels, (size, size), interpolation=interpolation)
    return np.clip(total / len(restored) + 0.5, 0, 255).astype(np.uint8)


def _report(face: Face, *, enhanced: bool, input_size: int) -> FaceReport:
    x0, y0, x1, y1 = face.box
    return FaceReport(
        box=(round(x0), round(y0), round(x1), round(y1)),
        score=face.score,
        enhanced=enhanced,
        input_size=input_size,
    )


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


_enhancers: dict[EngineConfig, Enhancer] = {}
_enhancers_lock = threading.Lock()


def get_enhancer(config: EngineConfig | None = None) -> Enhancer:
    """The process's Enhancer for `config` (defaults if None), created once."""
    config = config or EngineConfig()
    with _enhancers_lock:
        enhancer = _enhancers.get(config)
        if enhancer is None:
            enhancer = _enhancers[config] = Enhancer(config)
        return enhancer
