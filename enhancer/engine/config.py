"""Engine settings and per-request options.

EngineConfig is what an operator sets (Django reads it from FACE_ENHANCER_*
settings in enhancer/engine_config.py); EnhanceOptions is what a client asks for
with one image. Both refuse out-of-range values with InvalidOption, so a typo in
the environment fails at start-up, not on the first upload.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import PurePath
from typing import TypeGuard

from enhancer.engine.errors import InvalidOption

RESTORERS = ("realesrgan", "onnx")

# Chosen by looking at /work/shared/eval (see docs/engine.md, "Fidelity").
DEFAULT_FIDELITY = 0.3


@dataclass(frozen=True)
class EngineConfig:
    """Every engine setting, with the defaults the service ships with."""

    # Decoding: images with more pixels are refused before they are decoded.
    max_pixels: int = 40_000_000
    # Upper cap on a request's maxFaceCount.
    max_face_count: int = 50
    # Detection: CenterFace score threshold, smallest face kept (shorter box
    # side, in pixels), and the longest image side the detector sees (larger
    # images are scaled down for detection only; cost grows with pixels).
    detection_threshold: float = 0.5
    min_face_size: int = 10
    detection_max_side: int = 2048
    # Restoration: "realesrgan" (built in) or "onnx" (onnx_model in models_dir).
    restorer: str = "realesrgan"
    models_dir: str = ""
    onnx_model: str = ""
    # Real-ESRGAN sees each face at its native resolution, capped at this many
    # pixels per side: cost grows with its square (128 px is about 2.5 s here).
    face_input_max: int = 128
    # Store Real-ESRGAN's activations as bfloat16: ~15% faster, differences of
    # well under one grey level after the face is scaled back.
    ncnn_bf16: bool = True
    # 0 = only the network's output, 1 = only the original face.
    fidelity: float = DEFAULT_FIDELITY
    # Threads for the networks; 0 = every CPU this process may run on.
    threads: int = 0
    # Encoding.
    jpeg_quality: int = 92
    webp_quality: int = 90
    png_compress_level: int = 3

    def __post_init__(self) -> None:
        _check_int("max_pixels", self.max_pixels, 1, None)
        _check_int("max_face_count", self.max_face_count, 1, 1000)
        _check_float("detection_threshold", self.detection_threshold, 0.05, 0.99)
        _check_int("min_face_size", self.min_face_size, 1, None)
        _check_int("detection_max_side", self.detection_max_side, 64, None)
        if self.restorer not in RESTORERS:
            raise InvalidOption("restorer", f"restorer must be one of {', '.join(RESTORERS)}.")
        if self.restorer == "onnx" and not self.onnx_model:
            raise InvalidOption("onnx_model", "restorer 'onnx' needs onnx_model (a file name).")
        if self.onnx_model and PurePath(self.onnx_model).name != self.onnx_model:
            raise InvalidOption("onnx_model", "onnx_model must be a file name in models_dir.")
        _check_int("face_input_max", self.face_input_max, 16, 512)
        _check_float("fidelity", self.fidelity, 0.0, 1.0)
        _check_int("threads", self.threads, 0, 256)
        _check_int("jpeg_quality", self.jpeg_quality, 1, 95)
        _check_int("webp_quality", self.webp_quality, 1, 100)
        _check_int("png_compress_level", self.png_compress_level, 0, 9)

    @property
    def thread_count(self) -> int:
        if self.threads:
            return self.threads
        try:
            return len(os.sched_getaffinity(0))  # respects taskset and cgroup cpusets
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    def describe(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class EnhanceOptions:
    """What a client chooses for one image (API names in the messages)."""

    # How much area around each face is enhanced: 0 = the inner face (brows to
    # chin, cheek to cheek), 1 = the whole aligned head crop with hair. The
    # exact geometry is in enhancer/engine/paste_back.py and docs/engine.md.
    aria_ratio: float = 0.5
    max_face_count: int = 10
    # None = the engine's configured default.
    fidelity: float | None = None

    def validate(self, config: EngineConfig | None = None) -> None:
        cap = (config or EngineConfig()).max_face_count
        if not _is_number(self.aria_ratio) or not 0.0 <= self.aria_ratio <= 1.0:
            raise InvalidOption("ariaRatio", "ariaRatio must be a number from 0 to 1.")
        if (
            isinstance(self.max_face_count, bool)
            or not isinstance(self.max_face_count, int)
            or not 1 <= self.max_face_count <= cap
        ):
            raise InvalidOption(
                "maxFaceCount", f"maxFaceCount must be a whole number from 1 to {cap}."
            )
        if self.fidelity is not None and (
            not _is_number(self.fidelity) or not 0.0 <= self.fidelity <= 1.0
        ):
            raise InvalidOption("fidelity", "fidelity must be a number from 0 to 1.")


def _is_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOption(name, f"{name} must be a whole number.")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InvalidOption(name, f"{name} must be {bounds}.")


def _check_float(name: str, value: object, low: float, high: float) -> None:
    if not _is_number(value) or not low <= float(value) <= high:
        raise InvalidOption(name, f"{name} must be a number from {low} to {high}.")
