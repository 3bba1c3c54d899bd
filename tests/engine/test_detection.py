"""Face detection (CenterFace) and selection of the largest maxFaceCount faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from enhancer.engine import Enhancer
from enhancer.engine.detection import Face, FaceDetector, select_largest
from tests.engine.images import COLLAGE_TILES, astronaut, coffee, collage

# Her face in the 512x512 portrait, measured by eye: forehead to chin, ear to ear.
ASTRONAUT_FACE = (180, 55, 272, 180)


def centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def detector(enhancer: Enhancer) -> FaceDetector:
    return enhancer.detector


def test_finds_the_astronauts_face_where_it_is(detector: FaceDetector) -> None:
    faces = detector.detect(astronaut())
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.8
    assert overlap(face.box, ASTRONAUT_FACE) > 0.6
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    for x, y in face.landmarks:
        assert face.box[0] <= x <= face.box[2] and face.box[1] <= y <= face.box[3]


def test_finds_no_face_on_the_coffee(detector: FaceDetector) -> None:
    assert detector.detect(coffee()) == []


def test_finds_the_three_faces_of_a_collage(detector: FaceDetector) -> None:
    faces = detector.detect(collage())
    assert len(faces) == 3
    # One face per pasted astronaut, each inside its tile.
    for x, y, side in COLLAGE_TILES:
        inside = [
            f
            for f in faces
            if x <= centre(f.box)[0] <= x + side and y <= centre(f.box)[1] <= y + side
        ]
        assert len(inside) == 1


def test_any_image_size_works(detector: FaceDetector) -> None:
    # 333 x 517 is no multiple of 32: the detector pads, it does not stretch.
    odd = np.ascontiguousarray(astronaut()[:517, 20:353])
    faces = detector.detect(odd)
    assert len(faces) == 1
    shifted = (ASTRONAUT_FACE[0] - 20, ASTRONAUT_FACE[1], ASTRONAUT_FACE[2] - 20, ASTRONAUT_FACE[3])
    assert overlap(faces[0].box, shifted) > 0.6


def test_large_images_are_detected_scaled_down_and_reported_full_size(
    detector: FaceDetector,
) -> None:
    big = cv2.resize(astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    faces = detector.variant(max_side=512).detect(big)
    assert len(faces) == 1
    doubled = tuple(2 * c for c in ASTRONAUT_FACE)
    assert overlap(faces[0].box, doubled) > 0.6


def test_minimum_face_size_drops_small_faces(detector: FaceDetector) -> None:
    # The collage's faces are about 50, 38 and 26 pixels wide.
    assert len(detector.variant(min_face_size=40).detect(collage())) == 1


def test_threshold_drops_weak_detections(detector: FaceDetector) -> None:
    assert detector.variant(threshold=0.99).detect(collage()) == []


def face(x0: float, width: float, score: float = 0.9) -> Face:
    return Face(box=(x0, 0, x0 + width, width), score=score, landmarks=np.zeros((5, 2)))


def test_selection_keeps_the_largest_faces() -> None:
    faces = [face(0, 20), face(100, 50), face(200, 30, score=0.99), face(300, 40)]
    chosen, skipped = select_largest(faces, 2)
    assert [f.box[0] for f in chosen] == [100, 300]
    assert sorted(f.box[0] for f in skipped) == [0, 200]


def test_selection_with_room_for_all() -> None:
    faces = [face(0, 20), face(100, 50)]
    chosen, skipped = select_largest(faces, 10)
    assert len(chosen) == 2 and skipped == []
