"""The engine's configuration from Django settings (the FACE_ENHANCER_* block).

The engine itself never imports Django; this adapter is the only bridge, used
by the worker's task, the upload view and `manage.py enhance`.
"""

from __future__ import annotations

from django.conf import settings

from enhancer.engine import EngineConfig


def engine_config() -> EngineConfig:
    return EngineConfig(
        max_pixels=settings.FACE_ENHANCER_MAX_PIXELS,
        max_face_count=settings.FACE_ENHANCER_MAX_FACE_COUNT,
        detection_threshold=settings.FACE_ENHANCER_DETECTION_THRESHOLD,
        min_face_size=settings.FACE_ENHANCER_MIN_FACE_SIZE,
        detection_max_side=settings.FACE_ENHANCER_DETECTION_MAX_SIDE,
        restorer=settings.FACE_ENHANCER_RESTORER,
        models_dir=str(settings.FACE_ENHANCER_MODELS_DIR),
        onnx_model=settings.FACE_ENHANCER_ONNX_MODEL,
        face_input_max=settings.FACE_ENHANCER_FACE_INPUT_MAX,
        ncnn_bf16=settings.FACE_ENHANCER_NCNN_BF16,
        fidelity=settings.FACE_ENHANCER_FIDELITY,
        threads=settings.FACE_ENHANCER_THREADS,
        jpeg_quality=settings.FACE_ENHANCER_JPEG_QUALITY,
        webp_quality=settings.FACE_ENHANCER_WEBP_QUALITY,
        png_compress_level=settings.FACE_ENHANCER_PNG_COMPRESS_LEVEL,
    )
