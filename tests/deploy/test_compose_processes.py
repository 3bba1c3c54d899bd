"""The compose services, started here exactly as docker compose starts them.

No Docker engine runs on these machines, so this test runs each service's
command from docker-compose.yml (through `sh -c`, with the service's
environment) as a local process, against the run's PostgreSQL and Redis, and
takes one image from upload to download through them over HTTP. The only
changes: host names become 127.0.0.1, the web port a free one, and /data
(the media volume) a temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings
from PIL import Image
from skimage import data

from tests.conftest import run_database_url, wait_until
from tests.deploy.compose import ROOT, command_line, compose

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="compose runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default}, with nothing set in the shell."""
    return re.sub(
        r"\$\{([A-Z0-9_]+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), str(value)
    )


def _service_env(service: dict, *, port: int, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    for name, value in service["environment"].items():
        env[name] = _interpolate(value).replace("web:8000", f"127.0.0.1:{port}")
    # The compose network's hosts are this machine's services; /data is a folder.
    redis_base = settings.REDIS_URL.rsplit("/", 1)[0]
    env.update(
        DATABASE_URL=run_database_url(),
        REDIS_URL=f"{redis_base}/14",  # a database of its own: no other worker takes its tasks
        VAR_DIR=str(data_dir),
        MEDIA_ROOT=str(data_dir / "media"),
        STATIC_ROOT=str(data_dir / "static"),  # /app/staticfiles in the image
        FACE_ENHANCER_MODELS_DIR=str(data_dir / "models"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _command(service: dict, *, port: int, data_dir: Path) -> str:
    """The shell script compose runs: `sh -c SCRIPT`, or the exec form joined."""
    parts = service["command"]
    script = parts[2] if parts[:2] == ["sh", "-c"] else command_line(service)
    # Compose turns $$ into $ (a variable for the container's shell, not for compose).
    script = script.replace("$$", "$")
    return script.replace("0.0.0.0:8000", f"127.0.0.1:{port}").replace("/data/", f"{data_dir}/")


class Receiver(BaseHTTPRequestHandler):
    """The webhook channel's receiver: accepts every delivery."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture
def deployment(tmp_path) -> Iterator[tuple[str, dict[str, str], dict[str, subprocess.Popen]]]:
    services = compose()["services"]
    port = _free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    envs = {
        name: _service_env(services[name], port=port, data_dir=data_dir)
        for name in ("migrate", "web", "worker-enhance", "worker-default", "beat")
    }
    migrate = subprocess.run(
        ["sh", "-c", _command(services["migrate"], port=port, data_dir=data_dir)],
        cwd=ROOT,
        env=envs["migrate"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    processes = {}
    for name in ("web", "worker-enhance", "worker-default", "beat"):
        log = (tmp_path / f"{name}.log").open("wb")
        processes[name] = subprocess.Popen(
            ["sh", "-c", _command(services[name], port=port, data_dir=data_dir)],
            cwd=ROOT,
            env=envs[name],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, processes, tmp_path)
        yield base, envs["web"], processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in processes.items():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            print(f"--- {name} ---\n" + (tmp_path / f"{name}.log").read_text()[-2000:])


def _wait_healthy(base: str, processes: dict[str, subprocess.Popen], logs: Path) -> None:
    def healthy() -> bool:
        for name, process in processes.items():
            assert process.poll() is None, (logs / f"{name}.log").read_text()
        try:
            return requests.get(f"{base}/healthz", timeout=10).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(healthy, timeout=120, what=f"{base}/healthz to answer 200", every=0.5)


def _portrait() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((320, 320)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_one_image_from_upload_to_download_through_the_compose_services(deployment, receiver):
    base, env, processes = deployment
    # What an operator runs: docker compose exec web python manage.py create_application ...
    made = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_application",
            "Compose",
            "--webhook-url",
            receiver,
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    app = json.loads(made.stdout.strip().splitlines()[-1])
    token = requests.post(
        f"{base}/api/v1/Authorization/GenerateJwtToken",
        json={"applicationId": app["applicationId"], "jwtPrivateKey": app["jwtPrivateKey"]},
        timeout=30,
    ).json()["accessToken"]
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": app["apiKey"],
        "x-api-secret": app["apiSecret"],
        "Accept": "application/json",
    }
    user_id = str(uuid.uuid4())

    started = requests.post(
        f"{base}/api/v1/Image/FaceEnhancing/AdCreative",
        data={"applicationId": app["applicationId"], "userId": user_id},
        files={"uploadedImage": ("astronaut.jpg", _portrait(), "image/jpeg")},
        headers=headers,
        timeout=60,
    )
    assert started.status_code == 200, started.text
    process = started.json()

    def finished() -> dict | None:
        progress = requests.get(
            f"{base}/api/v1/Image/FaceEnhancing/CheckUserProgress",
            params={
                "userId": user_id,
                "imageFaceEnhancerProcessId": process["imageFaceEnhancerProcessId"],
            },
            headers=headers,
            timeout=30,
        ).json()["items"][0]
        return progress if progress["status"] in ("Completed", "Failed") else None

    progress = wait_until(finished, timeout=180, what="the process to finish", every=0.5)
    assert progress["status"] == "Completed", progress

    query = {
        "applicationId": app["applicationId"],
        "taskId": process["taskId"],
        "imageFaceEnhancerProcessId": process["imageFaceEnhancerProcessId"],
    }
    full = requests.get(
        f"{base}/api/v1/Image/FaceEnhancing/Download", params=query, headers=headers, timeout=60
    )
    low = requests.get(
        f"{base}/api/v1/Image/FaceEnhancing/Download",
        params={**query, "lowResolution": "true"},
        headers=headers,
        timeout=60,
    )
    assert full.status_code == low.status_code == 200
    assert Image.open(io.BytesIO(full.content)).size == (320, 320)
    assert len(low.content) < len(full.content)
    assert all(p.poll() is None for p in processes.values()), "a service died"
