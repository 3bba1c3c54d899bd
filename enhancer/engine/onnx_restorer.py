"""Face restoration models in ONNX format, supplied by the operator.

GFPGAN 1.2-1.4, CodeFormer, GPEN-BFR and RestoreFormer++ exported the way
facefusion publishes them share one convention:

- input `input`: float32 (1, 3, S, S), RGB scaled as (x / 255 - 0.5) / 0.5;
- CodeFormer only: input `weight`, float64 (1,), its fidelity (1 = closest to
  the input face);
- output 0: the same shape, in -1..1.

S is read from the model (512 for most, 256 or 1024 for some GPEN variants).
No package ships these weights; the operator drops the file in
FACE_ENHANCER_MODELS_DIR and names it in FACE_ENHANCER_ONNX_MODEL.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from enhancer.engine.errors import ModelUnavailable

logger = logging.getLogger(__name__)

_DEFAULT_SIZE = 512  # when the model leaves its spatial dimensions free


class OnnxRestorer:
    """Runs one ONNX face-restoration model; loaded on first use, shared by threads."""

    name = "onnx"
    scale = 1

    def __init__(self, *, models_dir: str, file_name: str, threads: int) -> None:
        self.path = Path(models_dir) / file_name
        self.threads = threads
        self._session: ort.InferenceSession | None = None
        self._size = _DEFAULT_SIZE
        self._takes_weight = False
        self._lock = threading.Lock()

    @property
    def applies_fidelity(self) -> bool:
        self.load()
        return self._takes_weight

    def crop_size(self, native_size: float) -> int:
        # These models only work at the size they were trained for.
        self.load()
        return self._size

    def load(self) -> None:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._create_session()

    def _create_session(self) -> ort.InferenceSession:
        # EngineConfig already refused names with a directory part.
        if not self.path.is_file():
            logger.error("ONNX face model not found: %s", self.path)
            raise ModelUnavailable()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: as fast here on an idle machine,
        # and kinder to a second worker process sharing the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:
            logger.error("ONNX face model %s cannot be loaded: %s", self.path, e)
            raise ModelUnavailable() from e
        inputs = {i.name: i for i in session.get_inputs()}
        if "input" not in inputs or len(inputs["input"].shape) != 4:
            logger.error("ONNX face model %s has no (1, 3, S, S) input named 'input'", self.path)
            raise ModelUnavailable()
        side = inputs["input"].shape[2]
        self._size = side if isinstance(side, int) and side > 0 else _DEFAULT_SIZE
        self._takes_weight = "weight" in inputs
        return session

    def restore(self, face: np.ndarray, fidelity: float) -> np.ndarray:
        self.load()
        assert self._session is not None
        blob = face.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0
        feed: dict[str, np.ndarray] = {"input": np.ascontiguousarray(blob)}
        if self._takes_weight:
            feed["weight"] = np.array([fidelity], dtype=np.float64)
        output = self._session.run(None, feed)[0][0]
        pixels = (output.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5
        return np.clip(pixels, 0, 255).astype(np.uint8)
