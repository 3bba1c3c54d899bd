"""The ONNX restorer path (GFPGAN, CodeFormer, GPEN), with models built here.

No package ships those weights, so each test writes a tiny ONNX model with the
same signature: `input` float32 (1, 3, S, S) in -1..1 and, for CodeFormer,
`weight` float64 (1,); the first output has the input's shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from enhancer.engine import (
    EngineConfig,
    EnhanceOptions,
    Enhancer,
    InvalidOption,
    ModelUnavailable,
)
from enhancer.engine.onnx_restorer import OnnxRestorer
from tests.engine.images import astronaut, decode, encode

SIZE = 64  # the real models use 512; the contract is the same


def save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = 9  # what onnxruntime 1.x reads everywhere
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def gfpgan_like(path: Path) -> Path:
    """GFPGAN's signature; the "restoration" inverts the face (-x in -1..1)."""
    image = [1, 3, SIZE, SIZE]
    graph = helper.make_graph(
        [helper.make_node("Neg", ["input"], ["output"])],
        "tiny_gfpgan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, image)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, image)],
    )
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def codeformer_like(path: Path) -> Path:
    """CodeFormer's signature; the output is input * weight (so weight 0 is grey)."""
    image = [1, 3, SIZE, SIZE]
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["weight"], ["weight_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["input", "weight_f"], ["output"]),
        ],
        "tiny_codeformer",
        [
            helper.make_tensor_value_info("input", TensorProto.FLOAT, image),
            helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, image)],
    )
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def face_crop() -> np.ndarray:
    return np.ascontiguousarray(astronaut()[60:124, 190:254])


def test_restorer_runs_a_gfpgan_signature_model(tmp_path: Path) -> None:
    gfpgan_like(tmp_path / "gfpgan_1.4.onnx")
    restorer = OnnxRestorer(models_dir=str(tmp_path), file_name="gfpgan_1.4.onnx", threads=1)
    # These models work at their own size, whatever the face's size.
    assert restorer.crop_size(23) == SIZE and restorer.crop_size(900) == SIZE
    assert not restorer.applies_fidelity
    crop = face_crop()
    restored = restorer.restore(crop, 0.3)
    assert restored.shape == crop.shape and restored.dtype == np.uint8
    assert np.abs(restored.astype(int) - (255 - crop.astype(int))).max() <= 1


def test_codeformer_weight_is_the_fidelity(tmp_path: Path) -> None:
    codeformer_like(tmp_path / "codeformer.onnx")
    restorer = OnnxRestorer(models_dir=str(tmp_path), file_name="codeformer.onnx", threads=1)
    assert restorer.applies_fidelity
    crop = face_crop()
    assert np.abs(restorer.restore(crop, 1.0).astype(int) - crop).max() <= 1
    assert np.abs(restorer.restore(crop, 0.0).astype(int) - 128).max() <= 1


def onnx_engine(enhancer: Enhancer, models_dir: Path, name: str) -> Enhancer:
    config = EngineConfig(restorer="onnx", models_dir=str(models_dir), onnx_model=name)
    engine = Enhancer(config)
    engine.detector = enhancer.detector  # the detector is the same; skip reloading it
    return engine


def test_the_engine_enhances_through_an_onnx_model(enhancer: Enhancer, tmp_path: Path) -> None:
    gfpgan_like(tmp_path / "gfpgan_1.4.onnx")
    engine = onnx_engine(enhancer, tmp_path, "gfpgan_1.4.onnx")
    result = engine.enhance(encode(astronaut(), "PNG"), EnhanceOptions(fidelity=0.0))
    assert (result.faces_detected, result.faces_enhanced) == (1, 1)
    assert result.faces[0].input_size == SIZE
    output = np.asarray(decode(result.image_bytes)).astype(int)
    # The inverted detail shows inside the face and nowhere else.
    x0, y0, x1, y1 = result.faces[0].box
    assert np.abs(output[y0:y1, x0:x1] - astronaut()[y0:y1, x0:x1]).mean() > 10
    assert np.array_equal(output[400:, :], astronaut()[400:, :])


def test_a_missing_model_is_reported_without_internals(enhancer: Enhancer, tmp_path: Path) -> None:
    engine = onnx_engine(enhancer, tmp_path, "not_there.onnx")
    with pytest.raises(ModelUnavailable) as info:
        engine.enhance(encode(astronaut(), "PNG"), EnhanceOptions())
    assert str(tmp_path) not in info.value.message


def test_a_model_with_another_signature_is_refused(tmp_path: Path) -> None:
    image = [1, 3, SIZE, SIZE]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["output"])],
        "wrong",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, image)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, image)],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "w.onnx")
    restorer = OnnxRestorer(models_dir=str(tmp_path), file_name="w.onnx", threads=1)
    with pytest.raises(ModelUnavailable):
        restorer.load()


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"restorer": "onnx"}, "onnx_model"),
        ({"restorer": "onnx", "onnx_model": "../elsewhere/model.onnx"}, "onnx_model"),
        ({"restorer": "gfpgan"}, "restorer"),
    ],
)
def test_onnx_settings_are_checked_at_start_up(settings: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidOption) as info:
        EngineConfig(**settings)  # type: ignore[arg-type]
    assert info.value.field == field
