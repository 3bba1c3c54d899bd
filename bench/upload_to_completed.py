"""Upload to Completed through the API, against the engine alone on the same photo.

A one-face photo of about 1 MP (skimage's astronaut, scaled to 1024x1024): the
engine alone on it, in the bench's process, against upload -> Completed
through the API (POST, queue, worker, progress polled). Target: the API takes
at most 1.15 times the engine's time.
"""

from __future__ import annotations

import io
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import requests
from PIL import Image
from skimage import data

from bench.api_server import Server
from bench.in_process import engine_enhancer, engine_once

TARGET_RATIO = 1.15
# The client polls slowly, as a real one would: a fast poll would take CPU from
# the worker it measures. The end of a job is the server's completedAt.
POLL_SECONDS = 0.25


def photo_1mp() -> bytes:
    """The astronaut (one face) at 1024x1024 = 1.05 MP, as a JPEG."""
    image = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@dataclass
class Job:
    total: float  # POST sent -> the process Completed (its completedAt)
    post: float  # the POST's own answer time
    queued: float  # createdAt -> startedAt
    worked: float  # startedAt -> completedAt


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def api_once(srv: Server, session: requests.Session, photo: bytes) -> Job:
    user_id = str(uuid.uuid4())
    start = time.perf_counter()
    started_at = time.time()  # the server's clock: it runs on this machine
    posted = session.post(
        f"{srv.base}/api/v1/Image/FaceEnhancing/AdCreative",
        data={"applicationId": srv.credentials["applicationId"], "userId": user_id},
        files={"uploadedImage": ("astronaut.jpg", photo, "image/jpeg")},
        timeout=60,
    )
    post_seconds = time.perf_counter() - start
    posted.raise_for_status()
    process_id = posted.json()["imageFaceEnhancerProcessId"]
    while True:
        item = session.get(
            f"{srv.base}/api/v1/Image/FaceEnhancing/CheckUserProgress",
            params={"userId": user_id, "imageFaceEnhancerProcessId": process_id},
            timeout=10,
        ).json()["items"][0]
        if item["status"] in ("Completed", "Failed"):
            break
        time.sleep(POLL_SECONDS)
    if item["status"] != "Completed":
        raise RuntimeError(f"the job failed: {item['errorMessage']}")
    stamp = {k: _seconds(item[k]) for k in ("createdAt", "startedAt", "completedAt")}
    return Job(
        stamp["completedAt"] - started_at,
        post_seconds,
        stamp["startedAt"] - stamp["createdAt"],
        stamp["completedAt"] - stamp["startedAt"],
    )


def engine_against_api(srv: Server, photo: bytes, runs: int) -> tuple[list[float], list[Job]]:
    """Alternate one engine run and one API job, so that a change in the machine's
    load (other processes on it) weighs on both sides alike."""
    enhancer = engine_enhancer()
    session = requests.Session()
    session.headers.update(srv.headers)
    engine_once(enhancer, photo)  # loads the models here...
    api_once(srv, session, photo)  # ...and in the worker
    engine, jobs = [], []
    for _ in range(runs):
        engine.append(engine_once(enhancer, photo))
        jobs.append(api_once(srv, session, photo))
    return engine, jobs


def render(engine: list[float], jobs: list[Job]) -> list[str]:
    engine_s = statistics.median(engine)
    api_s = statistics.median(j.total for j in jobs)
    ratio = statistics.median(j.total / e for j, e in zip(jobs, engine, strict=True))
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    return [
        "### Upload to Completed, against the engine alone",
        "",
        f"A one-face photo of 1.05 MP (the astronaut at 1024x1024, JPEG): {len(jobs)} pairs "
        "of one engine run and one API job, alternated after a warm-up of each. An API job "
        "runs from the moment the POST is sent to the process's `completedAt`; the client "
        f"polls CheckUserProgress every {POLL_SECONDS * 1000:.0f} ms to learn it:",
        "",
        "| | median | min | max |",
        "| --- | --- | --- | --- |",
        f"| engine alone (`Enhancer.enhance`) | {engine_s:.2f} s | {min(engine):.2f} s "
        f"| {max(engine):.2f} s |",
        f"| API: POST sent -> Completed | {api_s:.2f} s | {min(j.total for j in jobs):.2f} s "
        f"| {max(j.total for j in jobs):.2f} s |",
        f"| of which the POST's answer | {statistics.median(j.post for j in jobs):.3f} s | | |",
        f"| of which waiting in the queue | {statistics.median(j.queued for j in jobs):.3f} s "
        "| | |",
        f"| of which the worker's run | {statistics.median(j.worked for j in jobs):.2f} s | | |",
        "",
        f"Ratio API / engine (median of the pairs): **{ratio:.2f}** ({verdict} the target "
        f"of {TARGET_RATIO}).",
        "",
    ]
