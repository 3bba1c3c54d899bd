"""Quality benchmark: what the engine does to degraded faces, against the clean face.

The faces of ../shared/eval-gt/ (clean photos) are cut out, degraded three ways
(heavy, mild, small: see DEGRADATIONS and that folder's README), enhanced by the
engine's own per-face path (Enhancer.enhance_face, what every upload goes
through) and compared with the clean face inside the detector's face box:
PSNR, SSIM and gradient ratio (mean Sobel magnitude over the clean face's; 1 =
as sharp as the original) for

- input: the degraded face as it was;
- sharpen: a five-line OpenCV unsharp mask, the "do we need a network" baseline;
- before: the engine as it was before issue 11 (face_policy.BEFORE);
- engine: the engine as it is (face_policy.ADAPTIVE).

"before" and "engine" run face by face in the same process, so their time ratio
holds whatever else runs on the machine; the same goes for the time per image
of `make bench`'s photos (../shared/eval), enhanced whole by both. Halos: pixels
around the eyes of large faces (native size >= 2x the 128 px feed cap) that come
out more than 25 grey levels brighter than they went in. Sheets (clean | input | sharpen | before |
engine, one row a face) go to var/bench/quality/.

    .venv/bin/python bench/quality.py [--quick] [--out DIR]

Not a test: it prints figures (recorded in docs/quality.md) and the targets of
issue 11, met or missed.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enhancer.engine import EngineConfig, EnhanceOptions, Enhancer, get_enhancer
from enhancer.engine.alignment import align
from enhancer.engine.face_policy import ADAPTIVE, BEFORE

ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = ROOT.parent / "shared"  # eval-gt/ (clean photos), eval/ (make bench's photos)
OUT_DIR = ROOT / "var" / "bench" / "quality"
METHODS = ("input", "sharpen", "before", "engine")
SMALL_FACE_WIDTH = 48  # box width of a face in the "small" set
HALO_LEVELS = 25  # grey levels brighter than the input that count as a halo pixel
ARIA_RATIO = 0.5  # the API's default


@dataclass
class Sample:
    """One face cut out of a clean photo, with the detector's findings on it."""

    name: str
    clean: np.ndarray  # RGB uint8, the cut-out
    box: tuple[int, int, int, int]  # face box in the cut-out
    landmarks: np.ndarray  # (5, 2) in the cut-out


@dataclass
class Scores:
    psnr: dict[str, float] = field(default_factory=dict)
    ssim: dict[str, float] = field(default_factory=dict)
    grad: dict[str, float] = field(default_factory=dict)
    halo: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    native: float = 0.0
    fed: int = 0


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _down_up(
    rgb: np.ndarray, factor: int, rng: np.random.Generator, noise: float, q: int
) -> np.ndarray:
    height, width = rgb.shape[:2]
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA).astype(np.float32)
    if noise:
        small += rng.normal(0, noise, small.shape)
    small = jpeg(np.clip(small + 0.5, 0, 255).astype(np.uint8), q)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def heavy(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur sigma 2, 4x down (area), noise sigma 8, JPEG 50, bicubic back up."""
    return _down_up(cv2.GaussianBlur(rgb, (0, 0), 2.0), 4, rng, 8.0, 50)


def mild(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur 1, 2x down, JPEG 70, bicubic back up: a large face only slightly soft."""
    return _down_up(cv2.GaussianBlur(rgb, (0, 0), 1.0), 2, rng, 0.0, 70)


def small(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(Already scaled so the face is ~48 px) blur 1, 2x down and up, JPEG 60."""
    height, width = rgb.shape[:2]
    soft = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    half = cv2.resize(soft, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    return jpeg(cv2.resize(half, (width, height), interpolation=cv2.INTER_CUBIC), 60)


DEGRADATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "heavy": heavy,
    "mild": mild,
    "small": small,
}


def sharpen(rgb: np.ndarray) -> np.ndarray:
    """The OpenCV baseline: an unsharp mask (amount 1, sigma 1.5)."""
    soft = cv2.GaussianBlur(rgb, (0, 0), 1.5)
    return cv2.addWeighted(rgb, 2.0, soft, -1.0, 0)


def cut_faces(
    enhancer: Enhancer, gt_dir: Path, *, scale_to: int | None, min_width: int
) -> list[Sample]:
    """Every face of the clean photos, cut out with its FFHQ frame around it.

    With `scale_to`, each cut-out is first scaled (area averaging) so its face
    box is that many pixels wide; faces already smaller are left out.
    """
    samples = []
    for path in sorted(gt_dir.glob("*.jpg")):
        photo = np.asarray(Image.open(path).convert("RGB"))
        faces = sorted(enhancer.detector.detect(photo), key=lambda f: (f.box[1], f.box[0]))
        for number, face in enumerate(faces):
            width = face.box[2] - face.box[0]
            if width < max(min_width, scale_to or 0):
                continue
            x0, y0, x1, y1 = align(face.landmarks).bounds(photo.shape[1], photo.shape[0])
            clean = photo[y0:y1, x0:x1]
            offset = np.array([x0, y0], np.float64)
            landmarks = face.landmarks - offset
            box = np.array(face.box, np.float64) - np.tile(offset, 2)
            if scale_to:
                factor = scale_to / width
                size = (round(clean.shape[1] * factor), round(clean.shape[0] * factor))
                clean = cv2.resize(clean, size, interpolation=cv2.INTER_AREA)
                landmarks, box = landmarks * factor, box * factor
            bx0, by0 = np.maximum(0, np.floor(box[:2])).astype(int)
            bx1 = int(min(clean.shape[1], np.ceil(box[2])))
            by1 = int(min(clean.shape[0], np.ceil(box[3])))
            samples.append(
                Sample(
                    f"{path.stem}#{number}",
                    np.ascontiguousarray(clean),
                    (bx0, by0, bx1, by1),
                    landmarks,
                )
            )
    return samples


def enhance(
    engine: Enhancer, sample: Sample, rgb: np.ndarray
) -> tuple[np.ndarray, float, float, int]:
    """The engine's per-face path on `rgb` with the clean photo's landmarks."""
    alignment = align(sample.landmarks)
    plan = engine.plan_face(rgb, alignment, engine.config.fidelity)
    output = rgb.copy()
    started = time.perf_counter()
    engine.enhance_face(rgb, output, alignment, plan, aria_ratio=ARIA_RATIO)
    return output, time.perf_counter() - started, alignment.native_size, plan.crop_size


def gradient(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return float(np.sqrt(gx * gx + gy * gy).mean())


def halo_pixels(sample: Sample, before: np.ndarray, after: np.ndarray) -> int:
    """Pixels near the eyes at least HALO_LEVELS grey levels brighter after than before."""
    change = cv2.cvtColor(after, cv2.COLOR_RGB2GRAY).astype(np.int16) - cv2.cvtColor(
        before, cv2.COLOR_RGB2GRAY
    ).astype(np.int16)
    eyes = sample.landmarks[:2]
    radius = int(0.4 * np.linalg.norm(eyes[1] - eyes[0]))
    count = 0
    for x, y in eyes.round().astype(int):
        window = change[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
        count += int((window > HALO_LEVELS).sum())
    return count


def score(
    sample: Sample, set_name: str, engines: tuple[Enhancer, Enhancer], seed: int
) -> tuple[Scores, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    degraded = DEGRADATIONS[set_name](sample.clean, rng)
    outputs = {"input": degraded, "sharpen": sharpen(degraded)}
    scores = Scores()
    for name, engine in zip(("before", "engine"), engines, strict=True):
        outputs[name], scores.seconds[name], scores.native, scores.fed = enhance(
            engine, sample, degraded
        )
        scores.halo[name] = halo_pixels(sample, degraded, outputs[name])
    x0, y0, x1, y1 = sample.box
    truth = sample.clean[y0:y1, x0:x1]
    clean_gradient = gradient(truth)
    for name, pixels in outputs.items():
        face = pixels[y0:y1, x0:x1]
        scores.psnr[name] = float(peak_signal_noise_ratio(truth, face, data_range=255))
        scores.ssim[name] = float(
            structural_similarity(truth, face, channel_axis=2, data_range=255)
        )
        scores.grad[name] = gradient(face) / clean_gradient
    return scores, [sample.clean[y0:y1, x0:x1]] + [o[y0:y1, x0:x1] for o in outputs.values()]


def sheet(rows: list[tuple[str, list[np.ndarray]]], path: Path, height: int = 160) -> None:
    """One row a face: clean | input | sharpen | before | engine, each `height` px tall."""
    lines = []
    for label, tiles in rows:
        scaled = [
            cv2.resize(
                t, (round(t.shape[1] * height / t.shape[0]), height), interpolation=cv2.INTER_CUBIC
            )
            for t in tiles
        ]
        line = np.concatenate(
            [np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in scaled], axis=1
        )
        cv2.putText(line, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
        lines.append(line)
    header = np.full((20, lines[0].shape[1], 3), 255, np.uint8)
    first = rows[0][1][0]
    tile_width = round(first.shape[1] * height / first.shape[0]) + 4  # every tile of a row
    for column, name in enumerate(("clean", *METHODS)):
        position = (column * tile_width + 4, 15)
        cv2.putText(header, name, position, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    lines.insert(0, header)
    width = max(line.shape[1] for line in lines)
    lines = [
        np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=255)
        for line in lines
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(lines)).save(path)


def run_set(
    set_name: str, samples: list[Sample], engines: tuple[Enhancer, Enhancer], out: Path
) -> list[Scores]:
    print(f"\n== {set_name} ({len(samples)} faces) ==")
    header = "face".ljust(20) + " native fed" + "".join(f" {m:>8}" for m in METHODS)
    print(header + "   SSIM:" + "".join(f" {m:>7}" for m in METHODS))
    results: list[Scores] = []
    rows: list[tuple[str, list[np.ndarray]]] = []
    for number, sample in enumerate(samples):
        scores, tiles = score(sample, set_name, engines, seed=number)
        results.append(scores)
        rows.append(
            (f"{sample.name} {scores.psnr['engine'] - scores.psnr['input']:+.2f} dB", tiles)
        )
        psnr = "".join(f" {scores.psnr[m]:8.2f}" for m in METHODS)
        ssim = "".join(f" {scores.ssim[m]:7.3f}" for m in METHODS)
        print(
            f"{sample.name:<20} {scores.native:6.0f} {scores.fed:3d}{psnr}        {ssim}",
            flush=True,
        )
    sheet(rows, out / f"{set_name}.png")
    return results


def summarise(set_name: str, results: list[Scores]) -> dict[str, float]:
    def mean(metric: str, method: str) -> float:
        return statistics.mean(getattr(r, metric)[method] for r in results)

    print(f"-- {set_name} means over {len(results)} faces --")
    for method in METHODS:
        print(
            f"   {method:<8} PSNR {mean('psnr', method):6.2f}  SSIM {mean('ssim', method):.4f}"
            f"  gradient ratio {mean('grad', method):.2f}"
        )
    gains = [r.psnr["engine"] - r.psnr["input"] for r in results]
    large = [r for r in results if r.native >= 256]
    summary = {
        "psnr": mean("psnr", "engine") - mean("psnr", "input"),
        "ssim": mean("ssim", "engine") - mean("ssim", "input"),
        "psnr_before": mean("psnr", "before") - mean("psnr", "input"),
        "ssim_before": mean("ssim", "before") - mean("ssim", "input"),
        "worst": min(gains),
        "halo_before": sum(r.halo["before"] for r in large),
        "halo_engine": sum(r.halo["engine"] for r in large),
        "seconds_before": statistics.mean(r.seconds["before"] for r in results),
        "seconds_engine": statistics.mean(r.seconds["engine"] for r in results),
    }
    print(
        f"   over input: engine {summary['psnr']:+.2f} dB / {summary['ssim']:+.4f} SSIM"
        f" (worst face {summary['worst']:+.2f} dB); before {summary['psnr_before']:+.2f} dB"
        f" / {summary['ssim_before']:+.4f}; halo pixels on {len(large)} large faces:"
        f" before {summary['halo_before']}, engine {summary['halo_engine']};"
        f" s per face: before {summary['seconds_before']:.2f},"
        f" engine {summary['seconds_engine']:.2f}"
    )
    return summary


def photo_times(engines: tuple[Enhancer, Enhancer], eval_dir: Path) -> tuple[float, float]:
    """Seconds per image of `make bench`'s photos (../shared/eval), before and engine.

    The two run alternately, photo by photo, so a busy machine slows both alike.
    """
    totals = [0.0, 0.0]
    paths = sorted(eval_dir.glob("*.*g"))
    for number, path in enumerate(paths):
        data = path.read_bytes()
        order = (0, 1) if number % 2 == 0 else (1, 0)  # neither always goes first
        for column in order:
            totals[column] += engines[column].enhance(data, EnhanceOptions()).timings["total"]
    print(
        f"\n== whole photos ({len(paths)} from {eval_dir}) ==\n"
        f"   s per image: before {totals[0] / len(paths):.2f}, engine {totals[1] / len(paths):.2f}"
    )
    return totals[0], totals[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="every third face (about a third of the time)"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help="folder for the side-by-side sheets"
    )
    parser.add_argument(
        "--shared", type=Path, default=SHARED_DIR, help="the folder holding eval-gt and eval"
    )
    args = parser.parse_args()
    gt_dir, eval_dir = args.shared / "eval-gt", args.shared / "eval"
    if not gt_dir.is_dir():
        print(f"skipped: {gt_dir} is missing")
        return
    print(f"load average {os.getloadavg()[0]:.2f}, CPUs {EngineConfig().thread_count}")
    started = time.perf_counter()
    shared = get_enhancer(EngineConfig())
    engines = (Enhancer(shared.config), Enhancer(shared.config))
    for engine, policy in zip(engines, (BEFORE, ADAPTIVE), strict=True):
        engine.detector, engine.restorer = shared.detector, shared.restorer  # one copy
        engine.policy = policy
    now = shared
    shared.load()  # and one warm-up run, so neither column pays for a cold start
    shared.restorer.restore(np.zeros((64, 64, 3), np.uint8), 0.3)
    sets = {
        "heavy": cut_faces(now, gt_dir, scale_to=None, min_width=64),
        "mild": cut_faces(now, gt_dir, scale_to=None, min_width=64),
        "small": cut_faces(now, gt_dir, scale_to=SMALL_FACE_WIDTH, min_width=40),
    }
    summaries = {}
    for set_name, samples in sets.items():
        if args.quick:
            samples = samples[::3]
        summaries[set_name] = summarise(set_name, run_set(set_name, samples, engines, args.out))
    photos = photo_times(engines, eval_dir) if eval_dir.is_dir() else None
    print(f"\nsheets in {args.out}; {time.perf_counter() - started:.0f} s in all")
    targets(summaries, photos)
    print(f"load average {os.getloadavg()[0]:.2f}")


def targets(s: dict[str, dict[str, float]], photos: tuple[float, float] | None) -> None:
    halo_before = s["heavy"]["halo_before"] + s["mild"]["halo_before"]
    halo_engine = s["heavy"]["halo_engine"] + s["mild"]["halo_engine"]
    seconds = [(v["seconds_engine"], v["seconds_before"]) for v in s.values()]
    time_ratio = sum(a for a, _ in seconds) / sum(b for _, b in seconds)
    if photos:  # the target is per image of make bench's photos; per face otherwise
        time_ratio = photos[1] / photos[0]
    checks = [
        ("heavy PSNR over input", s["heavy"]["psnr"], ">= +0.6 dB", s["heavy"]["psnr"] >= 0.6),
        ("heavy SSIM over input", s["heavy"]["ssim"], ">= +0.02", s["heavy"]["ssim"] >= 0.02),
        ("mild PSNR over input", s["mild"]["psnr"], ">= +0.0 dB", s["mild"]["psnr"] >= 0.0),
        ("mild worst face", s["mild"]["worst"], ">= -0.1 dB", s["mild"]["worst"] >= -0.1),
        ("small PSNR over input", s["small"]["psnr"], ">= +0.8 dB", s["small"]["psnr"] >= 0.8),
        (
            "eye halos cut (before/engine)",
            halo_before / max(1, halo_engine),
            ">= 4x",
            halo_before >= 4 * halo_engine,
        ),
        ("time per image, engine/before", time_ratio, "<= 1.10", time_ratio <= 1.10),
    ]
    print("\nTargets (issue 11):")
    for name, value, goal, met in checks:
        print(f"    {name:<32} {value:+8.3f}  target {goal:<11} {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
