"""Engine benchmark: stage times, the restorer's GFLOP/s against a matmul peak.

Not a test: figures depend on the machine and on what else runs on it, so they
are printed (and recorded in docs/performance.md), never asserted.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from enhancer.engine import EngineConfig, EnhanceOptions, EnhanceResult, get_enhancer
from enhancer.engine.restoration import REALESRGAN_MACS_PER_PIXEL, RealEsrganRestorer

EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
STAGES = ("decode", "detect", "align", "restore", "paste", "encode")

# Targets from the issue, for 2-core machines.
NETWORK_SHARE_OF_PEAK = 0.85
OUTSIDE_NETWORK_MAX = 0.10
ONE_MP_SECONDS_MAX = 4.0


def matmul_peak_gflops(size: int = 2048, repeats: int = 7) -> float:
    """Best float32 matrix-multiply rate NumPy's BLAS reaches here, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up: thread pool, caches
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def network_gflops(restorer: RealEsrganRestorer, side: int, repeats: int = 3) -> float:
    """Real-ESRGAN alone on a side x side face crop (multiply-add = 2 FLOP)."""
    face = cv2.resize(data.astronaut()[40:220, 150:330], (side, side), interpolation=cv2.INTER_AREA)
    restorer.restore(face, 0.0)
    best = min(_seconds(lambda: restorer.restore(face, 0.0)) for _ in range(repeats))
    return 2 * REALESRGAN_MACS_PER_PIXEL * side * side / best / 1e9


def one_megapixel_photo() -> bytes:
    """The astronaut portrait at 1024x1024 (1.05 MP), as a camera would save it."""
    photo = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def enhance_median(data_bytes: bytes, repeats: int) -> EnhanceResult:
    """Median run by total time, after one warm-up run (models are already loaded)."""
    enhancer = get_enhancer(EngineConfig())
    enhancer.enhance(data_bytes, EnhanceOptions())
    results = [enhancer.enhance(data_bytes, EnhanceOptions()) for _ in range(repeats)]
    results.sort(key=lambda r: r.timings["total"])
    return results[len(results) // 2]


def report(name: str, result: EnhanceResult, peak: float) -> dict[str, float]:
    timings = result.timings
    total, network = timings["total"], timings["restore"]
    pixels = sum(face.input_size**2 for face in result.faces if face.enhanced)
    gflops = 2 * REALESRGAN_MACS_PER_PIXEL * pixels / network / 1e9 if network else 0.0
    outside = (total - network) / total
    stages = "  ".join(f"{stage} {timings.get(stage, 0.0) * 1000:.0f}" for stage in STAGES)
    print(
        f"{name:<22} {result.width}x{result.height}  faces {result.faces_enhanced}"
        f"/{result.faces_detected}  fed {_sizes(result)}"
    )
    print(f"    ms: {stages}  total {total * 1000:.0f}")
    if network:
        print(
            f"    network {gflops:.0f} GFLOP/s = {gflops / peak:.0%} of peak;"
            f" outside the network {outside:.1%} ({(total - network) * 1000:.0f} ms)"
        )
    return {"total": total, "gflops": gflops, "outside": outside}


def run(repeats: int = 3) -> None:
    threads = EngineConfig().thread_count
    print(f"CPUs available: {threads}, load average {os.getloadavg()[0]:.2f} (should be ~0)")
    peak = matmul_peak_gflops()
    print(f"float32 matmul peak (NumPy, 2048^3): {peak:.0f} GFLOP/s\n")

    restorer = get_enhancer(EngineConfig()).restorer
    get_enhancer(EngineConfig()).load()
    assert isinstance(restorer, RealEsrganRestorer)
    print("Real-ESRGAN x4plus alone (17.9 M multiply-adds per input pixel):")
    for side in (64, 96, 128):
        rate = network_gflops(restorer, side)
        print(f"    {side:>3}x{side:<3} {rate:6.0f} GFLOP/s = {rate / peak:.0%} of peak")
    print()

    print("Whole engine (median of", repeats, "runs after a warm-up):")
    one_mp = report("astronaut 1 MP JPEG", enhance_median(one_megapixel_photo(), repeats), peak)
    group: list[dict[str, float]] = []
    if EVAL_DIR.is_dir():
        for path in sorted(EVAL_DIR.glob("*.*g")):
            group.append(report(path.name, enhance_median(path.read_bytes(), repeats), peak))
    else:
        print(f"(skipped the group photos: {EVAL_DIR} is missing)")

    print("\nTargets:")
    _target(
        "1 MP one-face photo",
        one_mp["total"],
        f"<= {ONE_MP_SECONDS_MAX} s",
        lambda v: v <= ONE_MP_SECONDS_MAX,
        "{:.2f} s",
    )
    _target(
        "network vs matmul peak (1 MP)",
        one_mp["gflops"] / peak,
        f">= {NETWORK_SHARE_OF_PEAK:.0%}",
        lambda v: v >= NETWORK_SHARE_OF_PEAK,
        "{:.0%}",
    )
    _target(
        "outside the network (1 MP)",
        one_mp["outside"],
        f"<= {OUTSIDE_NETWORK_MAX:.0%}",
        lambda v: v <= OUTSIDE_NETWORK_MAX,
        "{:.1%}",
    )
    if group:
        outside = statistics.mean(r["outside"] for r in group)
        _target(
            "outside the network (eval, mean)",
            outside,
            f"<= {OUTSIDE_NETWORK_MAX:.0%}",
            lambda v: v <= OUTSIDE_NETWORK_MAX,
            "{:.1%}",
        )


def _sizes(result: EnhanceResult) -> str:
    sizes = [str(face.input_size) for face in result.faces if face.enhanced]
    return "+".join(sizes) + " px" if sizes else "-"


def _target(name: str, value: float, goal: str, met: Callable[[float], bool], fmt: str) -> None:
    verdict = "met" if met(value) else "MISSED"
    print(f"    {name:<34} {fmt.format(value):>8}  target {goal:<8} {verdict}")


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
