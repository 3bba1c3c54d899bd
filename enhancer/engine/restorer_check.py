"""Checking an operator's ONNX face model before jobs depend on it.

`manage.py check_restorer` calls `check_onnx_model`: it loads the file, checks
the signature against facefusion's convention (see onnx_restorer.py) and runs it
once on a real portrait's aligned face. Every failure is a RestorerCheckFailed
whose message says what is wrong and what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from enhancer.engine.alignment import align, crop
from enhancer.engine.detection import FaceDetector, select_largest
from enhancer.engine.errors import EngineError
from enhancer.engine.onnx_restorer import OnnxRestorer


class RestorerCheckFailed(EngineError):
    default_message = "The ONNX face model failed its check."


@dataclass(frozen=True)
class RestorerCheck:
    path: Path
    size: int  # S of the (1, 3, S, S) input
    takes_weight: bool  # CodeFormer's fidelity input
    seconds: float  # one run on the portrait's face
    output_shape: tuple[int, ...]
    output_range: tuple[float, float]


def check_onnx_model(models_dir: str, file_name: str, portrait_rgb: np.ndarray) -> RestorerCheck:
    if not file_name:
        raise RestorerCheckFailed(
            "No ONNX face model is configured: set FACE_ENHANCER_ONNX_MODEL to the file's name"
            " in FACE_ENHANCER_MODELS_DIR (and FACE_ENHANCER_RESTORER=onnx to use it)."
        )
    path = Path(models_dir) / file_name
    if Path(file_name).name != file_name:
        raise RestorerCheckFailed("FACE_ENHANCER_ONNX_MODEL must be a file name, not a path.")
    if not path.is_file():
        raise RestorerCheckFailed(f"{path} does not exist: copy the .onnx file there.")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own types for every kind of bad file
        raise RestorerCheckFailed(f"{path} is not an ONNX model onnxruntime can load: {e}") from e
    size, takes_weight = _check_signature(session)

    detector = FaceDetector(threshold=0.5, min_face_size=10, max_side=2048, threads=1)
    faces, _ = select_largest(detector.detect(portrait_rgb), 1)
    if not faces:
        raise RestorerCheckFailed("No face was found in the portrait; pass another image.")
    face = crop(portrait_rgb, align(faces[0].landmarks), size)
    blob = face.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0
    feed = {"input": np.ascontiguousarray(blob)}
    if takes_weight:
        feed["weight"] = np.array([0.5], dtype=np.float64)
    started = time.perf_counter()
    try:
        output = np.asarray(session.run(None, feed)[0])
    except Exception as e:
        raise RestorerCheckFailed(f"{path} failed on a {size} px face: {e}") from e
    seconds = time.perf_counter() - started
    if output.shape != blob.shape:
        raise RestorerCheckFailed(
            f"{path} returned shape {output.shape}; expected {blob.shape} like its input."
        )
    if not np.isfinite(output).all():
        raise RestorerCheckFailed(f"{path} returned NaN or infinite values.")
    # The restorer itself (what jobs run) must accept the file too.
    OnnxRestorer(models_dir=models_dir, file_name=file_name, threads=1).load()
    return RestorerCheck(
        path, size, takes_weight, seconds, output.shape, (float(output.min()), float(output.max()))
    )


def _check_signature(session: ort.InferenceSession) -> tuple[int, bool]:
    inputs = {i.name: i for i in session.get_inputs()}
    if "input" not in inputs:
        names = ", ".join(inputs) or "none"
        raise RestorerCheckFailed(f"The model has no input named 'input' (it has: {names}).")
    image = inputs["input"]
    if image.type != "tensor(float)":
        raise RestorerCheckFailed(f"Input 'input' is {image.type}; expected tensor(float).")
    shape = list(image.shape)
    if len(shape) != 4 or shape[1] != 3:
        raise RestorerCheckFailed(f"Input 'input' has shape {shape}; expected (1, 3, S, S).")
    side, other = shape[2], shape[3]
    if isinstance(side, int) and isinstance(other, int) and side != other:
        raise RestorerCheckFailed(f"Input 'input' is {side}x{other}; expected a square S x S.")
    size = side if isinstance(side, int) and side > 0 else 512
    extra = set(inputs) - {"input", "weight"}
    if extra:
        raise RestorerCheckFailed(f"Unexpected inputs {sorted(extra)}; only 'input' and 'weight'.")
    takes_weight = "weight" in inputs
    if takes_weight and inputs["weight"].type != "tensor(double)":
        raise RestorerCheckFailed(
            f"Input 'weight' is {inputs['weight'].type}; CodeFormer's is tensor(double), (1,)."
        )
    outputs = session.get_outputs()
    if not outputs or outputs[0].type != "tensor(float)" or len(outputs[0].shape) != 4:
        raise RestorerCheckFailed("Output 0 must be a float32 tensor (1, 3, S, S) in -1..1.")
    return size, takes_weight
