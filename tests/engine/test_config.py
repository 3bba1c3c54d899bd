"""Engine settings, request options, the Django adapter and the per-process cache."""

from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError

import pytest
from django.test import override_settings

import enhancer.engine as engine
from enhancer.engine import EngineConfig, EnhanceOptions, InvalidOption, get_enhancer
from enhancer.processing.engine_config import engine_config


def test_public_interface() -> None:
    for name in (
        "EngineConfig",
        "get_enhancer",
        "Enhancer",
        "EnhanceOptions",
        "EnhanceResult",
        "FaceReport",
        "decode_image",
        "DecodedImage",
        "EngineError",
        "ImageRejected",
        "InvalidOption",
    ):
        assert hasattr(engine, name), name
    for refusal in ("EmptyImage", "UnsupportedFormat", "CorruptImage", "ImageTooLarge"):
        assert issubclass(getattr(engine, refusal), engine.ImageRejected)
    assert issubclass(engine.ImageRejected, engine.EngineError)
    assert issubclass(engine.InvalidOption, engine.EngineError)


def test_defaults() -> None:
    options = EnhanceOptions()
    assert (options.aria_ratio, options.max_face_count, options.fidelity) == (0.5, 10, None)
    config = EngineConfig()
    assert config.max_pixels == 40_000_000 and config.max_face_count == 50
    assert config.restorer == "realesrgan" and 0 <= config.fidelity <= 1


def test_config_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        EngineConfig().fidelity = 0.9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_pixels": 0}, "max_pixels"),
        ({"fidelity": 1.2}, "fidelity"),
        ({"fidelity": float("nan")}, "fidelity"),
        ({"face_input_max": 8}, "face_input_max"),
        ({"jpeg_quality": 100}, "jpeg_quality"),
        ({"threads": -1}, "threads"),
        ({"max_face_count": True}, "max_face_count"),
        ({"detection_threshold": 0}, "detection_threshold"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidOption) as info:
        EngineConfig(**settings)  # type: ignore[arg-type]
    assert info.value.field == field


def test_options_accept_their_bounds() -> None:
    EnhanceOptions(aria_ratio=0, max_face_count=1, fidelity=0).validate()
    EnhanceOptions(aria_ratio=1, max_face_count=50, fidelity=1.0).validate()


@override_settings(
    FACE_ENHANCER_MAX_PIXELS=1234,
    FACE_ENHANCER_MAX_FACE_COUNT=7,
    FACE_ENHANCER_FIDELITY=0.6,
    FACE_ENHANCER_FACE_INPUT_MAX=96,
    FACE_ENHANCER_THREADS=1,
)
def test_engine_config_comes_from_the_settings() -> None:
    config = engine_config()
    assert (config.max_pixels, config.max_face_count, config.fidelity) == (1234, 7, 0.6)
    assert (config.face_input_max, config.thread_count) == (96, 1)


def test_one_enhancer_per_configuration_even_under_threads() -> None:
    config = EngineConfig(face_input_max=48, threads=1)
    seen: list[object] = []

    def grab() -> None:
        enhancer = get_enhancer(config)
        seen.append((enhancer, enhancer.detector.load()))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e, _ in seen}) == 1
    assert len({id(s) for _, s in seen}) == 1  # the model loaded once
    assert get_enhancer(EngineConfig(face_input_max=48, threads=1)) is seen[0][0]  # type: ignore[index]
    assert get_enhancer(EngineConfig(face_input_max=49, threads=1)) is not seen[0][0]  # type: ignore[index]
