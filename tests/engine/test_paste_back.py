"""Paste-back: ariaRatio's area, no seam, no colour shift, fidelity.

Most tests use a stand-in restorer that inverts the face, so every pixel the
engine touches is obvious; the geometry under test is the engine's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from enhancer.engine import EnhanceOptions, Enhancer, InvalidOption
from enhancer.engine.alignment import align
from enhancer.engine.paste_back import aria_ellipse
from tests.engine.conftest import inverted
from tests.engine.images import astronaut, decode, encode

PORTRAIT = encode(astronaut(), "PNG")


def enhanced_pixels(engine: Enhancer, **options: object) -> np.ndarray:
    result = engine.enhance(PORTRAIT, EnhanceOptions(**options))  # type: ignore[arg-type]
    return np.asarray(decode(result.image_bytes)).astype(np.int16)


def changed(output: np.ndarray) -> np.ndarray:
    return np.abs(output - astronaut().astype(np.int16)).max(axis=2) > 0


def elliptical_radius(engine: Enhancer, ratio: float) -> np.ndarray:
    """For every image pixel: its radius in the aria ellipse (1 on the edge)."""
    (face,) = engine.detector.detect(astronaut())
    to_unit = align(face.landmarks).matrix(1)
    ys, xs = np.mgrid[0:512, 0:512]
    points = np.stack([xs + 0.5, ys + 0.5, np.ones_like(xs)], axis=-1) @ to_unit.T
    (cx, cy), (ax, ay) = aria_ellipse(ratio)
    return np.sqrt(((points[..., 0] - cx) / ax) ** 2 + ((points[..., 1] - cy) / ay) ** 2)


@pytest.fixture(scope="module")
def inverting(fake_enhancer: Callable[..., Enhancer]) -> Enhancer:
    return fake_enhancer(inverted, fidelity=0.0)


@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0])
def test_only_the_aria_ellipse_changes(inverting: Enhancer, ratio: float) -> None:
    radius = elliptical_radius(inverting, ratio)
    touched = changed(enhanced_pixels(inverting, aria_ratio=ratio))
    # Everything outside the ellipse is bit-for-bit the input (one pixel of
    # slack for bilinear sampling of the mask at its edge).
    assert not touched[radius > 1.03].any()
    # And the engine did enhance the inside of it.
    assert touched[radius < 0.6].mean() > 0.95


def test_a_larger_aria_ratio_changes_more_pixels(inverting: Enhancer) -> None:
    counts = [int(changed(enhanced_pixels(inverting, aria_ratio=r)).sum()) for r in (0, 0.5, 1)]
    assert counts[0] < counts[1] < counts[2]
    # 0 is the inner face, 1 the whole head crop: several times more area.
    assert counts[2] > 3 * counts[0]


def test_a_larger_aria_ratio_changes_more_pixels_with_the_real_network(
    enhancer: Enhancer,
) -> None:
    inner = changed(enhanced_pixels(enhancer, aria_ratio=0.1)).sum()
    head = changed(enhanced_pixels(enhancer, aria_ratio=0.9)).sum()
    assert head > 2 * inner


@pytest.mark.parametrize("ratio", [-0.01, 1.01, float("nan"), float("inf"), True, "0.5"])
def test_an_aria_ratio_outside_0_to_1_is_refused(inverting: Enhancer, ratio: object) -> None:
    with pytest.raises(InvalidOption) as info:
        inverting.enhance(PORTRAIT, EnhanceOptions(aria_ratio=ratio))  # type: ignore[arg-type]
    assert info.value.field == "ariaRatio"
    assert "0 to 1" in info.value.message


def test_the_change_fades_out_across_the_mask_edge(inverting: Enhancer) -> None:
    ratio = 0.5
    radius = elliptical_radius(inverting, ratio)
    change = np.abs(enhanced_pixels(inverting, aria_ratio=ratio) - astronaut()).mean(axis=2)
    # Mean change per thin ring of the ellipse, from the inside out.
    edges = np.arange(0.40, 1.10, 0.025)
    rings = np.array(
        [change[(radius >= a) & (radius < b)].mean() for a, b in itertools.pairwise(edges)]
    )
    full = rings[:4].mean()
    assert full > 40  # the inverted face is a strong change...
    steps = np.abs(np.diff(rings))
    assert steps.max() < 0.2 * full  # ...that never jumps from one ring to the next
    assert rings[-3:].max() == 0  # and is gone past the edge


def test_no_colour_shift_from_the_network(fake_enhancer: Callable[..., Enhancer]) -> None:
    # A "network" that tints everything and darkens it: the engine keeps the
    # original's colour and shading, so the tint must not reach the output.
    def tint(pixels: np.ndarray) -> np.ndarray:
        shifted = pixels.astype(np.int16) * np.array([0.8, 1.0, 1.0]) + np.array([0, 0, 25])
        return np.clip(shifted, 0, 255).astype(np.uint8)

    output = enhanced_pixels(fake_enhancer(tint, fidelity=0.0), aria_ratio=1.0)
    face = (slice(70, 170), slice(190, 265))
    difference = output[face].astype(float) - astronaut()[face]
    assert np.abs(difference.mean(axis=(0, 1))).max() < 1.5


def test_fidelity_one_leaves_the_image_as_it_was(enhancer: Enhancer) -> None:
    assert not changed(enhanced_pixels(enhancer, fidelity=1.0)).any()


def test_lower_fidelity_changes_the_face_more(inverting: Enhancer) -> None:
    def change(fidelity: float) -> float:
        output = enhanced_pixels(inverting, fidelity=fidelity)
        return float(np.abs(output - astronaut()).mean())

    assert change(0.0) > change(0.5) > change(0.9) > 0


@pytest.mark.parametrize("fidelity", [-0.5, 1.5, float("nan")])
def test_a_fidelity_outside_0_to_1_is_refused(inverting: Enhancer, fidelity: float) -> None:
    with pytest.raises(InvalidOption) as info:
        inverting.enhance(PORTRAIT, EnhanceOptions(fidelity=fidelity))
    assert info.value.field == "fidelity"
