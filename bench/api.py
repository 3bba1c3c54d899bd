"""API benchmark: upload-to-Completed against the engine alone, CheckUserProgress under load.

    .venv/bin/python bench/api.py [--jobs 5] [--duration 15] [--rounds 3] [--write-docs]

Starts its own gunicorn (2 workers x 4 threads, as `make run`; --threads) and its own
`celery worker` on a temporary VAR_DIR (SQLite and the embedded broker unless
--database-url / --redis-url say otherwise), so it never touches real data.

1. A one-face photo of about 1 MP (skimage's astronaut, scaled to 1024x1024):
   the engine alone on it, in this process, against upload -> Completed through
   the API (POST, queue, worker, progress polled every 20 ms). Target: the API
   takes at most 1.15 times the engine's time.
2. CheckUserProgress throughput and latency under `wrk` (one process, and a
   full page of 20), against a trivial Django view in the same server, in
   --rounds rounds of the three (the machine is shared: ratios within a round).
3. bench/web_load.py on the same server: 200 pollers while the enhance worker
   is busy (at nice 0, then at nice 10), the refusal time of an image over
   the pixel limit, and the web's memory under 8 concurrent 40 MP uploads.

Not a test: figures depend on the machine and what else runs on it, so they are
printed (and with --write-docs recorded in docs/performance.md), never asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from bench import web_load  # noqa: E402
from config import embedded_redis  # noqa: E402  (needs the path above)

PYTHON = sys.executable
TARGET_RATIO = 1.15
# The client polls slowly, as a real one would: a fast poll would take CPU from
# the worker it measures. The end of a job is the server's completedAt.
POLL_SECONDS = 0.25
DOCS = ROOT / "docs" / "performance.md"
COMMAND = "  .venv/bin/python bench/api.py --write-docs"


def photo_1mp() -> bytes:
    """The astronaut (one face) at 1024x1024 = 1.05 MP, as a JPEG."""
    image = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    env: dict[str, str]
    credentials: dict[str, str]
    headers: dict[str, str]
    web_pid: int = 0  # gunicorn's master
    worker_pid: int = 0  # the celery worker, leader of its process group


@contextmanager
def spawned(args: list[str], env: dict[str, str], log: Path):
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def server(args: argparse.Namespace):
    """gunicorn + a celery worker on a fresh VAR_DIR, an application and a token."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-api-", dir=ROOT / "var"))
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "EMBEDDED_REDIS_SOCKET": str(var_dir / "redis" / "redis.sock"),
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "PYTHONPATH": str(ROOT),
        "NOTIFICATION_CHANNEL_REQUIRED": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": args.database_url or "",
        "REDIS_URL": args.redis_url or "",
    }
    # This process runs the engine alone and seeds the database: same settings.
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    created = subprocess.run(
        [*manage, "create_application", "bench", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    credentials = json.loads(created.stdout.strip().splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        if not args.redis_url:
            # The embedded broker, as bin/run starts it.
            sock = Path(env["EMBEDDED_REDIS_SOCKET"])
            sock.parent.mkdir(parents=True, exist_ok=True)
            command = embedded_redis.server_command(sock, sock.parent)
            stack.enter_context(spawned(command, env, var_dir / "redis.log"))
            embedded_redis.wait_until_ready(sock)
        web = stack.enter_context(
            spawned(
                [
                    PYTHON,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    "2",
                    "--threads",
                    str(args.threads),
                    "--log-level",
                    "warning",
                ],
                env,
                var_dir / "gunicorn.log",
            )
        )
        worker = stack.enter_context(
            spawned(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "default,enhance",
                    "-c",
                    "1",
                    "-l",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"bench-{os.getpid()}@%h",
                ],
                env,
                var_dir / "worker.log",
            )
        )
        wait_until(lambda: requests.get(f"{base}/bench/trivial", timeout=2).ok, 60, "gunicorn")
        token = requests.post(
            f"{base}/api/v1/Authorization/GenerateJwtToken",
            json={
                "applicationId": credentials["applicationId"],
                "jwtPrivateKey": credentials["jwtPrivateKey"],
            },
            timeout=10,
        ).json()["accessToken"]
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": credentials["apiKey"],
            "x-api-secret": credentials["apiSecret"],
            "Accept": "application/json",
        }
        try:
            yield Server(base, env, credentials, headers, web.pid, worker.pid)
        finally:
            stack.close()
            if args.keep:
                print(f"kept {var_dir} (logs: gunicorn.log, worker.log)", file=sys.stderr)
            else:
                shutil.rmtree(var_dir, ignore_errors=True)


def engine_enhancer():
    import django

    django.setup()
    from enhancer.engine import get_enhancer
    from enhancer.engine_config import engine_config

    return get_enhancer(engine_config())


def engine_once(enhancer, photo: bytes) -> float:
    from enhancer.engine import EnhanceOptions

    start = time.perf_counter()
    enhancer.enhance(photo, EnhanceOptions(), progress=lambda percent: None)
    return time.perf_counter() - start


@dataclass
class Job:
    total: float  # POST sent -> the process Completed (its completedAt)
    post: float  # the POST's own answer time
    queued: float  # createdAt -> startedAt
    worked: float  # startedAt -> completedAt


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


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def seed_processes(srv: Server, users: int = 25, per_user: int = 20) -> tuple[str, str]:
    """Completed processes for `users` users: (a user with a full page, one of its ids)."""
    import django

    django.setup()  # done already if the engine part ran
    from django.utils import timezone

    from enhancer.models import (
        FaceEnhancerProcess,
        ProcessStatus,
        RenderState,
        RenderTask,
    )

    now = timezone.now()
    processes, tasks = [], []
    for _user in range(users):
        user_id = uuid.uuid4()
        for _process in range(per_user):
            process = FaceEnhancerProcess(
                application_id=srv.credentials["applicationId"],
                user_id=user_id,
                status=ProcessStatus.COMPLETED,
                progress=100,
                upload="bench/upload.jpg",
                upload_name="portrait.jpg",
                upload_format="JPEG",
                upload_width=1024,
                upload_height=1024,
                upload_size=200_000,
                upload_sha256="0" * 64,
                faces_detected=1,
                faces_enhanced=1,
                faces=[{"box": [300, 100, 560, 420], "score": 0.93, "enhanced": True}],
                created_at=now,
                started_at=now,
                finished_at=now,
                attempts=1,
            )
            processes.append(process)
            tasks.append(
                RenderTask(
                    process=process,
                    render_state=RenderState.COMPLETED,
                    result="bench/r.jpg",
                    preview="bench/p.jpg",
                    content_type="image/jpeg",
                    size=300_000,
                    preview_size=40_000,
                    width=1024,
                    height=1024,
                    completed_at=now,
                )
            )
    FaceEnhancerProcess.objects.bulk_create(processes, batch_size=500)
    RenderTask.objects.bulk_create(tasks, batch_size=500)
    return str(processes[-1].user_id), str(processes[-1].id)


def request_parts(srv: Server, user_id: str, repeat: int = 200) -> dict[str, float]:
    """Milliseconds of each part of a page-of-20 CheckUserProgress, in this process."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from enhancer import selectors
    from enhancer.api.face_enhancing_serializers import page_body
    from enhancer.authentication import ApplicationAuthentication
    from enhancer.models import Application

    def per_call(function) -> float:
        function()
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        return (time.perf_counter() - start) / repeat * 1000

    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in srv.headers.items()}
    request = Request(RequestFactory().get("/", **meta))
    application = Application.objects.get(pk=srv.credentials["applicationId"])
    user = uuid.UUID(user_id)

    def read() -> selectors.ProcessPage:
        return selectors.progress_page(application=application, user_id=user, page=1, page_size=20)

    page = read()
    return {
        "authentication (token, key and secret: 2 small queries)": per_call(
            lambda: ApplicationAuthentication().authenticate(request)
        ),
        "the page's queries (page, count, render tasks)": per_call(read),
        "the body of 20 processes": per_call(lambda: page_body(page)),
    }


@dataclass
class Load:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(
    name: str,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    connections: int | None = None,
) -> Load:
    header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
    connections = connections or args.connections
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{args.duration}s",
            # Past wrk's 2 s default a slow answer would count as an error and
            # leave the latencies: keep it, p99 shows it.
            "--timeout",
            "10s",
            "--latency",
            *header_args,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    count = (int(errors.group(1)) if errors else 0) + (
        sum(int(n) for n in socket.groups()) if socket else 0
    )
    return Load(name, rps, _latency(out, "50%"), _latency(out, "99%"), count)


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run(args: argparse.Namespace | None = None) -> str:
    args = args or parse_args([])
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the load test: apt-get install -y wrk")
    photo = photo_1mp()
    load_average = os.getloadavg()[0]
    with server(args) as srv:
        engine, jobs = engine_against_api(srv, photo, args.jobs) if args.jobs else ([], [])
        user_id, process_id = seed_processes(srv)
        progress = f"{srv.base}/api/v1/Image/FaceEnhancing/CheckUserProgress?userId={user_id}"
        rounds = []
        for _ in range(args.rounds):
            # The three back to back, each round: the machine is shared, so
            # only ratios within a round compare.
            rounds.append(
                Round(
                    os.getloadavg()[0],
                    [
                        wrk("trivial Django view", f"{srv.base}/bench/trivial", {}, args),
                        wrk(
                            "CheckUserProgress, one process",
                            f"{progress}&imageFaceEnhancerProcessId={process_id}",
                            srv.headers,
                            args,
                        ),
                        wrk("CheckUserProgress, page of 20", progress, srv.headers, args),
                    ],
                )
            )
        parts = request_parts(srv, user_id)
        under_load = web_load.measure(
            srv, photo, wrk, f"{progress}&imageFaceEnhancerProcessId={process_id}", args
        )
    report = render(args, engine, jobs, rounds, load_average, parts)
    report += "\n".join(web_load.render(under_load, args))
    report += f"\nLoad average (1 min) when the run ended: {os.getloadavg()[0]:.1f}.\n"
    print(report)
    if args.write_docs:
        write_docs(report)
    return report


@dataclass
class Round:
    load_average: float  # 1 min, when the round started
    loads: list[Load]  # trivial view, one process, page of 20

    def ratio(self, index: int) -> float:
        return self.loads[index].requests_per_second / self.loads[0].requests_per_second


def render(
    args,
    engine: list[float],
    jobs: list[Job],
    rounds: list[Round],
    load: float,
    parts: dict[str, float],
) -> str:
    database = "PostgreSQL" if args.database_url else "SQLite"
    broker = "Redis" if args.redis_url else "the embedded Redis"
    lines = [
        "## API",
        "",
        f"Measured with `bench/api.py` on {os.cpu_count()} cores ({database}, {broker}; "
        f"load average {load:.1f} when it started), gunicorn 2 workers x {args.threads} "
        "threads and one `celery worker -c 1` on the same machine. Reproduce with:",
        "",
        COMMAND,
        "",
    ]
    if jobs:
        lines += _engine_lines(engine, jobs)
    lines += [
        "### CheckUserProgress under load",
        "",
        f"`wrk -t2 -c{args.connections} -d{args.duration}s --latency` on the same 2 cores as "
        "the server (wrk's own CPU use included). Every request authenticates (bearer token, "
        "key and secret); the data set is 500 completed processes of 25 users.",
        "",
        "| round (load avg) | endpoint | requests/s | of the trivial view | p50 | p99 | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, one_round in enumerate(rounds, 1):
        for index, item in enumerate(one_round.loads):
            share = f"{one_round.ratio(index):.0%}" if index else ""
            lines.append(
                f"| {number} ({one_round.load_average:.1f}) | {item.name} "
                f"| {item.requests_per_second:.0f} | {share} | {item.p50_ms:.1f} ms "
                f"| {item.p99_ms:.1f} ms | {item.errors} |"
            )
    one = statistics.median(r.ratio(1) for r in rounds)
    page = statistics.median(r.ratio(2) for r in rounds)
    lines += [
        "",
        f"Median over the rounds: one process **{one:.0%}** of the trivial view's throughput "
        f"(target 30%: {'met' if one >= 0.30 else 'missed'}), a page of 20 **{page:.0%}** "
        f"(target 10%: {'met' if page >= 0.10 else 'missed'}).",
        "",
        "Where a page of 20 spends its time, timed in the benchmark's own process (one "
        "call at a time, no HTTP):",
        "",
        "| part | per request |",
        "| --- | --- |",
        *(f"| {name} | {ms:.2f} ms |" for name, ms in parts.items()),
        "",
        "The rest is Django's and DRF's request handling, which the trivial view shows to "
        "be small. Figures from a shared machine vary from run to run by tens of percent; "
        "compare rows of the same run.",
        "",
    ]
    return "\n".join(lines)


def _engine_lines(engine: list[float], jobs: list[Job]) -> list[str]:
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


def write_docs(report: str) -> None:
    """Replace (or append) the `## API` section of docs/performance.md, and only it."""
    text = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    start = text.find("\n## API\n")
    if start != -1:
        after = text.find("\n## ", start + 1)
        rest = text[after:] if after != -1 else ""
        text = text[:start].rstrip("\n") + "\n\n" + report.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + report.rstrip("\n") + "\n"
    DOCS.write_text(text)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5, help="measured upload runs")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three wrk runs")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="default: the embedded broker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary VAR_DIR")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
