"""The server bench/api.py measures: gunicorn, a celery worker and a data set, on a fresh VAR_DIR.

gunicorn (2 workers x --threads threads, as `make run`) and one `celery worker`
run on a fresh VAR_DIR (SQLite and the embedded broker unless --database-url /
--redis-url say otherwise), so the bench never touches real data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from config import embedded_redis, supervisor

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


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
def spawned(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
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


def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, to_visit = [], [pid]
    while to_visit:
        current = to_visit.pop()
        found.append(current)
        to_visit.extend(children.get(current, []))
    return found


def _gunicorn(port: int, threads: int) -> list[str]:
    """`make run`'s web command; without its access log (measured apart, docs/performance.md)."""
    return supervisor.web_command(PYTHON, str(port), threads=threads, access_log=False)


def _celery_worker() -> list[str]:
    return [
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
    ]


@contextmanager
def server(args: argparse.Namespace) -> Iterator[Server]:
    """gunicorn + a celery worker on a fresh VAR_DIR, an application and a token."""
    (ROOT / "var").mkdir(exist_ok=True)
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
            spawned(_gunicorn(port, args.threads), env, var_dir / "gunicorn.log")
        )
        worker = stack.enter_context(spawned(_celery_worker(), env, var_dir / "worker.log"))
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
