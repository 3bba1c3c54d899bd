"""Shared engine fixtures. No database: the engine is plain Python.

Models load once per process (get_enhancer caches per configuration), and the
tests cap faces at 64 px so each real restoration takes well under a second.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from enhancer.engine import EngineConfig, Enhancer, get_enhancer

TEST_CONFIG = EngineConfig(face_input_max=64)


class FakeRestorer:
    """A stand-in network with the Real-ESRGAN contract (native size, 4x output).

    `change` turns the crop into the "restored" face, so tests can see exactly
    where the engine put it back.
    """

    name = "fake"
    scale = 4
    applies_fidelity = False

    def __init__(self, change: Callable[[np.ndarray], np.ndarray], max_input: int = 64) -> None:
        self.change = change
        self.max_input = max_input
        self.calls: list[tuple[int, int]] = []

    def crop_size(self, native_size: float) -> int:
        return int(max(16, min(round(native_size), self.max_input)))

    def load(self) -> None:
        pass

    def restore(self, face: np.ndarray, fidelity: float) -> np.ndarray:
        self.calls.append(face.shape[:2])
        big = cv2.resize(face, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        return self.change(big)


@pytest.fixture(scope="module")
def enhancer() -> Enhancer:
    """The real engine: CenterFace and Real-ESRGAN (faces capped at 64 px)."""
    return get_enhancer(TEST_CONFIG)


@pytest.fixture(scope="module")
def fake_enhancer(enhancer: Enhancer) -> Callable[..., Enhancer]:
    """An Enhancer with the real detector and a FakeRestorer applying `change`."""

    def build(change: Callable[[np.ndarray], np.ndarray], **config: object) -> Enhancer:
        engine = Enhancer(EngineConfig(**{"face_input_max": 64, **config}))  # type: ignore[arg-type]
        engine.detector = enhancer.detector
        engine.restorer = FakeRestorer(change)
        return engine

    return build


def inverted(pixels: np.ndarray) -> np.ndarray:
    return 255 - pixels
