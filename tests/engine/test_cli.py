"""The command lines: `python -m enhancer.engine` and `manage.py enhance`."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from enhancer.engine import cli
from tests.engine.images import astronaut, coffee, decode, encode

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "enhancer" / "engine"


@pytest.fixture
def portrait(tmp_path: Path) -> Path:
    # Small enough that her face is fed below the 64 px test cap.
    path = tmp_path / "portrait.png"
    path.write_bytes(encode(cv2.resize(astronaut(), (160, 160)), "PNG"))
    return path


def last_json_line(text: str) -> dict[str, object]:
    return json.loads(text.strip().splitlines()[-1])


def test_python_m_engine_enhances_a_file_without_django(portrait: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.png"
    code = (
        "import runpy, sys\n"
        "sys.argv = ['enhancer.engine', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('enhancer.engine', run_name='__main__')\n"
        "finally:\n"
        "    assert 'django' not in {m.split('.')[0] for m in sys.modules}, 'django imported'\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(portrait), "-o", str(output), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = last_json_line(completed.stdout)
    assert summary["facesDetected"] == 1 and summary["facesEnhanced"] == 1
    assert summary["faces"][0]["enhanced"] is True  # type: ignore[index]
    assert len(summary["faces"][0]["box"]) == 4  # type: ignore[index]
    assert {"decode", "detect", "restore", "encode", "total"} <= set(summary["timings"])  # type: ignore[arg-type]
    image = decode(output.read_bytes())
    assert (image.format, image.size) == ("PNG", (160, 160))


def test_the_engine_package_never_imports_django() -> None:
    for path in ENGINE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] == "django"], path


@override_settings(FACE_ENHANCER_FACE_INPUT_MAX=64)
def test_manage_py_enhance_prints_json_last(portrait: Path, tmp_path: Path) -> None:
    output, preview = tmp_path / "out.png", tmp_path / "preview.jpg"
    stdout = io.StringIO()
    call_command(
        "enhance",
        str(portrait),
        "-o",
        str(output),
        "--aria-ratio",
        "0.8",
        "--max-face-count",
        "3",
        "--fidelity",
        "0.2",
        "--preview",
        str(preview),
        "--json",
        stdout=stdout,
    )
    summary = last_json_line(stdout.getvalue())
    assert summary["facesEnhanced"] == 1
    assert decode(output.read_bytes()).format == "PNG"
    assert decode(preview.read_bytes()).format == "JPEG"


def test_manage_py_enhance_refuses_a_bad_option(portrait: Path, tmp_path: Path) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "enhance",
            str(portrait),
            "-o",
            str(tmp_path / "out.png"),
            "--aria-ratio",
            "1.5",
            "--json",
            stdout=stdout,
            stderr=stderr,
        )
    assert last_json_line(stdout.getvalue()) == {
        "error": "ariaRatio must be a number from 0 to 1.",
        "type": "InvalidOption",
        "field": "ariaRatio",
    }
    assert "ariaRatio" in stderr.getvalue()
    assert not (tmp_path / "out.png").exists()


def test_a_file_that_is_not_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.png"
    text.write_text("shopping list\n")
    status = cli.main([str(text), "-o", str(tmp_path / "out.png"), "--json"])
    assert status == 1
    captured = capsys.readouterr()
    assert last_json_line(captured.out)["type"] == "UnsupportedFormat"
    assert "JPEG, PNG or WebP" in captured.err


def test_a_missing_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main([str(tmp_path / "nowhere.jpg"), "-o", str(tmp_path / "out.jpg")])
    assert status == 1
    assert "Cannot read" in capsys.readouterr().err


@override_settings(FACE_ENHANCER_FACE_INPUT_MAX=64)
def test_a_photo_without_faces_is_copied_through(tmp_path: Path) -> None:
    source = tmp_path / "coffee.jpg"
    source.write_bytes(encode(coffee(), "JPEG"))
    stdout = io.StringIO()
    call_command("enhance", str(source), "-o", str(tmp_path / "out.jpg"), "--json", stdout=stdout)
    summary = last_json_line(stdout.getvalue())
    assert (summary["facesDetected"], summary["facesEnhanced"], summary["faces"]) == (0, 0, [])
    assert decode((tmp_path / "out.jpg").read_bytes()).size == (600, 400)
