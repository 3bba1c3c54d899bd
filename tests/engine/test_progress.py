"""Progress: 0..100 through the stages and per face, monotonic, ending at 100."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from enhancer.engine import EnhanceOptions, Enhancer, ImageRejected
from enhancer.engine.progress import ProgressPlan
from tests.engine.conftest import inverted
from tests.engine.images import coffee, collage, encode


@pytest.fixture(scope="module")
def engine(fake_enhancer: Callable[..., Enhancer]) -> Enhancer:
    return fake_enhancer(inverted)


def test_progress_rises_per_face_and_ends_at_100(engine: Enhancer) -> None:
    seen: list[int] = []
    result = engine.enhance(encode(collage(), "PNG"), EnhanceOptions(), progress=seen.append)
    assert result.faces_enhanced == 3
    assert seen[0] == 0 and seen[-1] == 100
    assert seen == sorted(set(seen))  # strictly increasing: no repeats, no step back
    assert all(isinstance(value, int) for value in seen)
    # decode, detect, one report per face, then the end.
    assert len(seen) >= 3 + 3


def test_larger_faces_take_a_larger_share(engine: Enhancer) -> None:
    seen: list[int] = []
    engine.enhance(encode(collage(), "PNG"), EnhanceOptions(), progress=seen.append)
    face_steps = [b - a for a, b in itertools.pairwise(seen[2:6])]
    # The restorer's cost grows with the crop's pixels. The two larger faces
    # are both fed at the 64 px cap, the smallest at about 49 px.
    assert abs(face_steps[0] - face_steps[1]) <= 1
    assert face_steps[2] < min(face_steps[:2]) * 0.8


def test_progress_without_faces(engine: Enhancer) -> None:
    seen: list[int] = []
    engine.enhance(encode(coffee(), "JPEG"), EnhanceOptions(), progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(set(seen))


def test_no_progress_after_a_refusal(engine: Enhancer) -> None:
    seen: list[int] = []
    with pytest.raises(ImageRejected):
        engine.enhance(b"not an image", EnhanceOptions(), progress=seen.append)
    assert 100 not in seen


def test_a_callback_can_cancel_the_work(engine: Enhancer) -> None:
    class Cancelled(Exception):
        pass

    def cancel_after_detection(value: int) -> None:
        if value > 12:
            raise Cancelled

    with pytest.raises(Cancelled):
        engine.enhance(encode(collage(), "PNG"), EnhanceOptions(), progress=cancel_after_detection)


def test_plan_never_reports_twice_or_backwards() -> None:
    seen: list[int] = []
    plan = ProgressPlan(seen.append)
    for value in (0, 0, 3.7, 3.2, 50, 49, 100, 100, 120):
        plan.report(value)
    assert seen == [0, 3, 50, 100]
