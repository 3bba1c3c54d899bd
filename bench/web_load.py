"""The web under the load clients put on it: pollers while the engine is busy, big uploads.

Used by bench/api.py, on the server it started (bench/api_server.py) (so in the same run as its
trivial-view reference):

1. 200 pollers of CheckUserProgress (`wrk -c200`) while the enhance worker runs
   1 MP jobs on every core, with the worker alternately at the web's CPU
   priority and at `nice 10` (what config/supervisor.py and docker-compose.yml
   run);
2. an image over the pixel limit, refused from its header: the time to answer;
3. 8 concurrent uploads of a 40 MP PNG: the peak rise of the web's memory
   (resident memory of gunicorn's master and workers, sampled every 10 ms).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image, ImageDraw

from bench.api_server import Server, process_tree
from bench.wrk_rounds import Load, wrk

START = "/api/v1/Image/FaceEnhancing/AdCreative"
PROGRESS = "/api/v1/Image/FaceEnhancing/CheckUserProgress"
POLLERS = 200
UPLOADS = 8
WORKER_NICENESS = 10  # as config/supervisor.py and docker-compose.yml


def big_png(width: int = 7296, height: int = 5472) -> bytes:
    """39.9 MP (under the default 40 MP limit) that compresses to a few hundred KB."""
    image = Image.new("RGB", (width, height), (180, 150, 130))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 400):
        draw.rectangle((i, i // 2, i + 200, i // 2 + 300), fill=(40 + i % 200, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def oversized_png(width: int = 8000, height: int = 6000) -> bytes:
    """48 MP claimed by a valid header (the pixel data is tiny): over the limit."""
    image = Image.new("L", (width, height), 0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def _form(srv: Server, name: str) -> dict[str, str]:
    return {"applicationId": srv.credentials["applicationId"], "userId": str(uuid.uuid4())}


def post_image(srv: Server, content: bytes, name: str) -> requests.Response:
    return requests.post(
        srv.base + START,
        data=_form(srv, name),
        files={"uploadedImage": (name, content, "image/png")},
        headers=srv.headers,
        timeout=120,
    )


def refusal_ms(srv: Server, repeat: int = 7) -> float:
    """Median milliseconds to refuse an image over the pixel limit (400)."""
    content = oversized_png()
    times = []
    with requests.Session() as session:
        session.headers.update(srv.headers)
        for _ in range(repeat):
            start = time.perf_counter()
            answer = session.post(
                srv.base + START,
                data=_form(srv, "oversized.png"),
                files={"uploadedImage": ("oversized.png", content, "image/png")},
                timeout=60,
            )
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 400 or "limit" not in answer.text:
                raise RuntimeError(f"the oversized image was not refused: {answer.text[:300]}")
    return statistics.median(times)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class UploadMemory:
    before_mb: float
    peak_mb: float
    seconds: float  # the slowest of the uploads
    statuses: list[int]
    file_kb: float

    @property
    def rise_mb(self) -> float:
        return self.peak_mb - self.before_mb


def upload_memory(srv: Server, web_pid: int) -> UploadMemory:
    content = big_png()
    pids = process_tree(web_pid)
    before = rss_mb(pids)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pids))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(UPLOADS) as pool:
            answers = list(
                pool.map(lambda i: post_image(srv, content, f"big-{i}.png"), range(UPLOADS))
            )
    finally:
        done.set()
        sampler.join()
    return UploadMemory(
        before,
        peak,
        time.perf_counter() - start,
        sorted(a.status_code for a in answers),
        len(content) / 1024,
    )


def keep_worker_busy(srv: Server, photo: bytes, jobs: int) -> None:
    """Queue `jobs` 1 MP uploads and wait until the worker is running one."""
    user_id = str(uuid.uuid4())
    with requests.Session() as session:
        session.headers.update(srv.headers)
        for _ in range(jobs):
            session.post(
                srv.base + START,
                data={"applicationId": srv.credentials["applicationId"], "userId": user_id},
                files={"uploadedImage": ("astronaut.jpg", photo, "image/jpeg")},
                timeout=60,
            ).raise_for_status()
        deadline = time.monotonic() + 60
        params: dict[str, str | int] = {"userId": user_id, "pageSize": 100}
        while time.monotonic() < deadline:
            items = session.get(srv.base + PROGRESS, params=params, timeout=10).json()["items"]
            if any(item["status"] == "Processing" for item in items):
                return
            time.sleep(0.2)
    raise RuntimeError("the enhance worker did not start the queued jobs")


def renice_group(pgid: int, niceness: int) -> None:
    """Every thread of the worker's process group (its pool children too)."""
    os.setpriority(os.PRIO_PGRP, pgid, niceness)


@dataclass
class WebLoad:
    busy: list[Load]  # one per worker niceness
    refusal_ms: float
    memory: UploadMemory


def measure(srv: Server, photo: bytes, progress_url: str, args: argparse.Namespace) -> WebLoad:
    """The pollers read one process, as a client waiting for it."""
    busy = []
    jobs = max(4, args.duration // 2 + 2)  # ~2.5 s each: busy for all of the wrk run
    # Alternated, twice: the machine's other load changes between phases.
    # Back to nice 0 needs root; otherwise each once.
    phases = (0, WORKER_NICENESS) * (2 if os.geteuid() == 0 else 1)
    for niceness in phases:
        renice_group(srv.worker_pid, niceness)
        keep_worker_busy(srv, photo, jobs)
        busy.append(
            wrk(
                f"{POLLERS} pollers, enhance worker busy at nice {niceness}",
                progress_url,
                srv.headers,
                args,
                connections=POLLERS,
                web_pid=srv.web_pid,
            )
        )
    return WebLoad(busy, refusal_ms(srv), upload_memory(srv, srv.web_pid))


def render(result: WebLoad, args: argparse.Namespace) -> list[str]:
    memory = result.memory
    lines = [
        "### Progress reads while the engine uses every core",
        "",
        f"{POLLERS} clients poll CheckUserProgress for one process as fast as they get "
        f"answers (`wrk -t2 -c{POLLERS} -d{args.duration}s --timeout 10s`) while the "
        "enhance worker runs 1 MP jobs queued for the whole run, on both cores; the "
        "worker alternately at the web's CPU priority and reniced to "
        f"{WORKER_NICENESS} (`make run` and docker-compose.yml start it under "
        f"`nice -n {WORKER_NICENESS}`), twice when run as root. Target: p99 under 1 s, no errors.",
        "",
        "| worker | requests/s | web CPU per request | p50 | p99 | errors | steal | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for load in result.busy:
        verdict = "met" if load.p99_ms < 1000 and load.errors == 0 else "missed"
        lines.append(
            f"| {load.name.rsplit('at ', 1)[1]} | {load.requests_per_second:.0f} "
            f"| {load.cpu_ms:.2f} ms | {load.p50_ms:.1f} ms | {load.p99_ms:.1f} ms "
            f"| {load.errors} | {load.steal:.0%} | {verdict} |"
        )
    lines += [
        "",
        "### Uploads: validated from the header",
        "",
        f"An image over the pixel limit (a valid 8000x6000 PNG header, 48 MP) is refused "
        f"in **{result.refusal_ms:.1f} ms** (median of 7 POSTs; target under 50 ms: "
        f"{'met' if result.refusal_ms < 50 else 'missed'}).",
        "",
        f"{UPLOADS} concurrent uploads of a {memory.file_kb:.0f} KB PNG of 39.9 MP "
        f"(7296x5472, accepted: answers {sorted(set(memory.statuses))}): the web's memory "
        f"(resident, gunicorn's master and workers) went from {memory.before_mb:.0f} MB to "
        f"a peak of {memory.peak_mb:.0f} MB, a rise of **{memory.rise_mb:.0f} MB** "
        f"(target under 300 MB: {'met' if memory.rise_mb < 300 else 'missed'}); the slowest "
        f"answer took {memory.seconds:.2f} s.",
        "",
    ]
    return lines
