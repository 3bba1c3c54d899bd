"""The AI face enhancement engine: a plain Python package with no Django import.

    from enhancer.engine import EngineConfig, EnhanceOptions, get_enhancer

    result = get_enhancer(EngineConfig()).enhance(data, EnhanceOptions(aria_ratio=0.5))

See docs/engine.md for how it works and what every setting means.
"""

from enhancer.engine.config import EngineConfig, EnhanceOptions
from enhancer.engine.decoding import DecodedImage, decode_image
from enhancer.engine.errors import (
    AnimatedImage,
    CorruptImage,
    EmptyImage,
    EngineError,
    ImageRejected,
    ImageTooLarge,
    InvalidOption,
    ModelUnavailable,
    UnsupportedFormat,
)
from enhancer.engine.pipeline import Enhancer, EnhanceResult, FaceReport, get_enhancer

__all__ = [
    "AnimatedImage",
    "CorruptImage",
    "DecodedImage",
    "EmptyImage",
    "EngineConfig",
    "EngineError",
    "EnhanceOptions",
    "EnhanceResult",
    "Enhancer",
    "FaceReport",
    "ImageRejected",
    "ImageTooLarge",
    "InvalidOption",
    "ModelUnavailable",
    "UnsupportedFormat",
    "decode_image",
    "get_enhancer",
]
