"""python manage.py check_restorer [--image PORTRAIT]

Checks the operator's ONNX face model (FACE_ENHANCER_ONNX_MODEL in
FACE_ENHANCER_MODELS_DIR) before jobs depend on it: loads it, checks its
signature, runs it once on a portrait's face and prints the time and output size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image, UnidentifiedImageError

from enhancer.engine.restorer_check import RestorerCheckFailed, check_onnx_model


class Command(BaseCommand):
    help = "Load the configured ONNX face model, check its signature and run it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--image",
            type=Path,
            help="a portrait to run the model on (default: scikit-image's astronaut)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        portrait = _portrait(options["image"])
        models_dir = str(settings.FACE_ENHANCER_MODELS_DIR)
        try:
            check = check_onnx_model(models_dir, settings.FACE_ENHANCER_ONNX_MODEL, portrait)
        except RestorerCheckFailed as e:
            raise CommandError(e.message) from e
        size = f"{check.output_shape[-1]}x{check.output_shape[-2]}"
        low, high = check.output_range
        self.stdout.write(f"model: {check.path}")
        self.stdout.write(
            f"signature: input float32 (1, 3, {check.size}, {check.size})"
            + (", weight float64 (1,) (CodeFormer's fidelity)" if check.takes_weight else "")
        )
        self.stdout.write(
            f"one face: {check.seconds * 1000:.0f} ms, output {size} (values {low:.2f}..{high:.2f})"
        )
        if settings.FACE_ENHANCER_RESTORER != "onnx":
            self.stdout.write("note: jobs use it once FACE_ENHANCER_RESTORER=onnx.")
        self.stdout.write(self.style.SUCCESS("OK"))


def _portrait(path: Path | None) -> np.ndarray:
    if path is None:
        try:
            from skimage import data  # a dev dependency: a real portrait that ships in a package
        except ImportError:
            raise CommandError("Pass --image PORTRAIT (scikit-image is not installed).") from None
        return np.asarray(data.astronaut())
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as e:
        raise CommandError(f"{path} cannot be read as an image: {e}") from e
