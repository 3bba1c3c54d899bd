"""manage.py check_restorer, on tiny ONNX models built here (no downloads)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from onnx import TensorProto, helper

from tests.engine.test_onnx_restorer import SIZE, codeformer_like, gfpgan_like, save


def check(settings, models_dir: Path, file_name: str, *args: str) -> str:
    settings.FACE_ENHANCER_MODELS_DIR = str(models_dir)
    settings.FACE_ENHANCER_ONNX_MODEL = file_name
    out = StringIO()
    call_command("check_restorer", *args, stdout=out)
    return out.getvalue()


def refusal(settings, models_dir: Path, file_name: str) -> str:
    with pytest.raises(CommandError) as info:
        check(settings, models_dir, file_name)
    return str(info.value)


def test_a_gfpgan_like_model_runs_once_and_says_its_time_and_size(settings, tmp_path):
    gfpgan_like(tmp_path / "gfpgan.onnx")
    out = check(settings, tmp_path, "gfpgan.onnx")
    assert f"input float32 (1, 3, {SIZE}, {SIZE})" in out
    assert f"output {SIZE}x{SIZE}" in out and " ms" in out
    assert "weight" not in out
    assert out.strip().endswith("OK")


def test_a_codeformer_like_model_is_told_to_take_the_fidelity(settings, tmp_path):
    codeformer_like(tmp_path / "codeformer.onnx")
    out = check(settings, tmp_path, "codeformer.onnx")
    assert "weight float64 (1,)" in out and out.strip().endswith("OK")


def test_a_portrait_can_be_given(settings, tmp_path):
    from PIL import Image

    from tests.engine.images import astronaut

    Image.fromarray(astronaut()).save(tmp_path / "me.png")
    gfpgan_like(tmp_path / "gfpgan.onnx")
    out = check(settings, tmp_path, "gfpgan.onnx", "--image", str(tmp_path / "me.png"))
    assert out.strip().endswith("OK")


def test_no_model_configured_says_which_setting(settings, tmp_path):
    message = refusal(settings, tmp_path, "")
    assert "FACE_ENHANCER_ONNX_MODEL" in message and "FACE_ENHANCER_MODELS_DIR" in message


def test_a_missing_file_names_the_path(settings, tmp_path):
    assert str(tmp_path / "gfpgan_1.4.onnx") in refusal(settings, tmp_path, "gfpgan_1.4.onnx")


def test_a_file_that_is_not_onnx_is_refused(settings, tmp_path):
    (tmp_path / "gfpgan.onnx").write_bytes(b"<html>404 Not Found</html>")
    assert "is not an ONNX model" in refusal(settings, tmp_path, "gfpgan.onnx")


def test_an_input_with_another_name_is_refused(settings, tmp_path):
    image = [1, 3, SIZE, SIZE]
    graph = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["output"])],
        "wrong_name",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, image)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, image)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    save(model, tmp_path / "other.onnx")
    message = refusal(settings, tmp_path, "other.onnx")
    assert "no input named 'input'" in message and "x" in message


def test_an_output_of_another_shape_is_refused(settings, tmp_path):
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["output"], axes=[1], keepdims=1)],
        "grey_output",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, SIZE, SIZE])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    save(model, tmp_path / "grey.onnx")
    assert "returned shape (1, 1," in refusal(settings, tmp_path, "grey.onnx")
