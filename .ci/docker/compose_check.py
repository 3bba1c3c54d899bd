"""The user's cycle on the docker compose deployment, through its published port.

Run by .ci/docker/compose-check.sh (make compose-check) once the images are
built, with DOCKER_HOST pointing at its private engine:

    python .ci/docker/compose_check.py --project-dir DIR --port PORT

Everything a user does: `docker compose up -d --wait`, `create_application`,
an upload through the API polled to Completed and downloaded, a dashboard login
and upload, two enhance workers sharing a batch of 10, `restart redis` in the
middle of a batch, `down` then `up` with the data kept, and `down -v`. The
assertions are on bodies and files. Each step's duration is printed.

Over 400 lines on purpose: it is one scenario, read top to bottom in the order
a user lives it; split, its steps would lose the state they hand each other.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from PIL import Image
from skimage import data

API = "/api/v1/Image/FaceEnhancing"
DOCKER = shutil.which("docker") or "/usr/bin/docker"
TIMINGS: list[tuple[str, float]] = []

# A webhook receiver for the application's notification channel, run inside the
# web container (`docker compose exec -d`), so that deliveries succeed.
RECEIVER = """
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8081), H).serve_forever()
"""


@contextmanager
def step(name: str) -> Iterator[None]:
    print(f"=== [compose-check] {name}", flush=True)
    began = time.monotonic()
    yield
    took = time.monotonic() - began
    TIMINGS.append((name, took))
    print(f"--- [compose-check] {name}: {took:.1f} s", flush=True)


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")


class Deployment:
    def __init__(self, project_dir: str, port: int) -> None:
        self.dir = project_dir
        self.base = f"http://127.0.0.1:{port}"

    def compose(self, *args: str, timeout: float = 900, capture: bool = False) -> str:
        print("$ docker compose " + " ".join(args), flush=True)
        run = subprocess.run(  # noqa: S603 (our own arguments)
            [DOCKER, "compose", *args],
            cwd=self.dir,
            text=True,
            capture_output=capture,
            timeout=timeout,
            check=False,
        )
        if run.returncode != 0:
            if capture:
                print(run.stdout[-4000:], run.stderr[-4000:], sep="\n")
            raise AssertionError(f"docker compose {' '.join(args)} exited {run.returncode}")
        return run.stdout if capture else ""

    def manage(self, *args: str) -> str:
        return self.compose("exec", "-T", "web", "python", "manage.py", *args, capture=True)

    def healthz(self) -> dict[str, Any] | None:
        try:
            response = requests.get(f"{self.base}/healthz", timeout=15)
        except requests.RequestException:
            return None
        body = response.json()
        return body if response.status_code == 200 and body.get("status") == "ok" else None


class ApiClient:
    """A client of the Face Enhancer API, as a user's code would be."""

    def __init__(self, base: str, credentials: dict[str, str]) -> None:
        self.base = base
        self.credentials = credentials
        self.app_id = credentials["applicationId"]
        self.user_id = str(uuid.uuid4())
        self.token = self.new_token()

    def new_token(self) -> str:
        response = requests.post(
            f"{self.base}/api/v1/Authorization/GenerateJwtToken",
            json={
                "applicationId": self.app_id,
                "jwtPrivateKey": self.credentials["jwtPrivateKey"],
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text[:500]
        return response.json()["accessToken"]

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.credentials["apiKey"],
            "x-api-secret": self.credentials["apiSecret"],
            "Accept": "application/json",
        }

    def start(self, image: bytes, name: str = "astronaut.jpg") -> dict[str, Any]:
        response = requests.post(
            f"{self.base}{API}/AdCreative",
            headers=self.headers(),
            data={
                "applicationId": self.app_id,
                "userId": self.user_id,
                "ariaRatio": "0.5",
                "maxFaceCount": "10",
            },
            files={"uploadedImage": (name, image, "image/jpeg")},
            timeout=120,
        )
        assert response.status_code == 200, f"{response.status_code} {response.text[:800]}"
        body = response.json()
        assert body["status"] == "Queued" and body["imageFaceEnhancerProcessId"], body
        return body

    def progress(self, process_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.base}{API}/CheckUserProgress",
            headers=self.headers(),
            params={"userId": self.user_id, "imageFaceEnhancerProcessId": process_id},
            timeout=30,
        )
        assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
        items = response.json()["items"]
        assert len(items) == 1 and items[0]["imageFaceEnhancerProcessId"] == process_id, items
        return items[0]

    def all_progresses(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.base}{API}/CheckApplicationAllProgresses",
            headers=self.headers(),
            params={"applicationId": self.app_id, "pageSize": 100},
            timeout=30,
        )
        assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
        return response.json()

    def download(self, started: dict[str, Any]) -> bytes:
        response = requests.get(
            f"{self.base}{API}/Download",
            headers=self.headers(),
            params={
                "applicationId": self.app_id,
                "taskId": started["taskId"],
                "imageFaceEnhancerProcessId": started["imageFaceEnhancerProcessId"],
                "lowResolution": "false",
            },
            timeout=120,
        )
        assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
        return response.content

    def wait_completed(self, started: list[dict[str, Any]], timeout: float) -> list[dict]:
        ids = [s["imageFaceEnhancerProcessId"] for s in started]

        def done() -> list[dict] | None:
            states = [self.progress(i) for i in ids]
            failed = [s for s in states if s["status"] == "Failed"]
            assert not failed, f"failed processes: {failed}"
            return states if all(s["status"] == "Completed" for s in states) else None

        return wait_for(f"{len(ids)} processes to complete", done, timeout, every=2)


def photo(variant: int = 0) -> bytes:
    """scikit-image's astronaut portrait as a JPEG, a little different per variant."""
    image = Image.fromarray(data.astronaut())
    if variant:
        image = image.crop((variant % 7, variant % 5, 512 - variant % 3, 512))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90 - variant % 10)
    return out.getvalue()


def assert_enhanced(result: bytes, original: bytes) -> None:
    enhanced = Image.open(io.BytesIO(result))
    before = Image.open(io.BytesIO(original))
    assert enhanced.format == "JPEG", enhanced.format
    assert enhanced.size == before.size, (enhanced.size, before.size)
    enhanced.load()
    assert result != original
    difference = sum(
        abs(a - b)
        for a, b in zip(
            enhanced.convert("L").resize((64, 64)).tobytes(),
            before.convert("L").resize((64, 64)).tobytes(),
            strict=True,
        )
    )
    assert difference > 0, "the result is the upload unchanged"


def check_api_upload(client: ApiClient) -> dict[str, Any]:
    original = photo()
    started = client.start(original)
    (state,) = client.wait_completed([started], timeout=600)
    assert state["progress"] == 100 and state["facesDetected"] >= 1, state
    assert state["facesEnhanced"] >= 1, state
    assert_enhanced(client.download(started), original)
    return started


def dashboard_login(dep: Deployment) -> requests.Session:
    out = dep.manage("bootstrap_demo")
    match = re.search(r"Demo member login \(shown once\): (\S+) / (\S+)", out)
    assert match, f"bootstrap_demo printed no member login:\n{out}"
    username, password = match.groups()
    session = requests.Session()
    page = session.get(f"{dep.base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token, page.text[:500]
    response = session.post(
        f"{dep.base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{dep.base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, f"login refused: {response.status_code}"
    home = session.get(f"{dep.base}/", timeout=30)
    assert home.status_code == 200 and "logout" in home.text.lower(), home.text[:500]
    return session


def check_dashboard_upload(dep: Deployment, session: requests.Session) -> None:
    original = photo(3)
    response = session.post(
        f"{dep.base}/upload/",
        data={"aria_ratio": "0.5", "max_face_count": "10"},
        files={"images": ("portrait.jpg", original, "image/jpeg")},
        headers={
            "Accept": "application/json",
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": f"{dep.base}/upload/",
        },
        timeout=120,
    )
    assert response.status_code == 201, f"{response.status_code} {response.text[:500]}"
    job_id = response.json()["job"]["id"]

    def finished() -> bool:
        live = session.get(f"{dep.base}/live/jobs/{job_id}", timeout=30)
        assert live.status_code == 200, live.status_code
        return not live.json()["active"]

    wait_for("the dashboard job to finish", finished, timeout=600, every=2)
    result = session.get(f"{dep.base}/jobs/{job_id}/result", timeout=60)
    assert result.status_code == 200, f"{result.status_code}: the job has no result"
    assert_enhanced(result.content, original)
    page = session.get(f"{dep.base}/jobs/{job_id}/", timeout=30)
    assert page.status_code == 200 and "portrait" in page.text, page.status_code


def enhance_successes(dep: Deployment, since: str) -> dict[str, int]:
    """How many enhancements each enhance worker container finished since `since`."""
    logs = dep.compose(
        "logs", "--no-color", "--since", since, "worker-enhance", capture=True, timeout=120
    )
    counts: dict[str, int] = {}
    for line in logs.splitlines():
        match = re.match(r"^(\S+)\s+\|.*Task enhancer\.process_enhance\[[^\]]+\] succeeded", line)
        if match:
            counts[match[1]] = counts.get(match[1], 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    dep = Deployment(args.project_dir, args.port)
    began = time.monotonic()

    with step("docker compose up -d --wait"):
        dep.compose("up", "-d", "--wait", "--wait-timeout", "600")
        health = dep.healthz()
        assert health == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}, health
        for name in ("postgres", "redis", "web", "worker-enhance", "worker-default", "beat"):
            state = json.loads(
                dep.compose("ps", "--format", "json", name, capture=True).splitlines()[0]
            )
            assert state["State"] == "running" and state["Health"] == "healthy", state
        migrate = dep.compose("ps", "-a", "--format", "json", "migrate", capture=True)
        assert '"ExitCode":0' in migrate.replace(" ", ""), migrate

    with step("create_application (docker compose exec web)"):
        dep.compose("exec", "-d", "web", "python", "-c", RECEIVER)
        out = dep.manage(
            "create_application", "compose-check", "--webhook-url", "http://web:8081/hook", "--json"
        )
        credentials = json.loads(out.strip().splitlines()[-1])
        assert credentials["notificationChannelId"], credentials
        client = ApiClient(dep.base, credentials)

    with step("API: upload, poll to Completed, download"):
        first = check_api_upload(client)

    with step("dashboard: log in, upload a photo, get it back enhanced"):
        check_dashboard_upload(dep, dashboard_login(dep))

    with step("docker compose up -d --scale worker-enhance=2 --wait"):
        dep.compose("up", "-d", "--scale", "worker-enhance=2", "--wait", "--wait-timeout", "300")
        ps = dep.compose("ps", "--format", "json", "worker-enhance", capture=True)
        assert len(ps.strip().splitlines()) == 2, ps

    with step("a batch of 10 through the API, both enhance workers taking part"):
        since = str(int(time.time()) - 1)
        originals = [photo(10 + i) for i in range(10)]
        started = [client.start(image, f"batch-{i}.jpg") for i, image in enumerate(originals)]
        client.wait_completed(started, timeout=900)
        for one, original in zip(started, originals, strict=True):
            assert_enhanced(client.download(one), original)
        counts = wait_for(
            "both workers' logs",
            lambda: (c := enhance_successes(dep, since)) and sum(c.values()) >= 10 and c,
            timeout=30,
        )
        print(f"enhancements per worker: {counts}")
        assert len(counts) == 2 and all(n >= 1 for n in counts.values()), counts

    with step("docker compose restart redis in the middle of a batch of 6"):
        originals = [photo(30 + i) for i in range(6)]
        started = [client.start(image, f"restart-{i}.jpg") for i, image in enumerate(originals)]
        wait_for(
            "the batch to be under way",
            lambda: any(
                client.progress(s["imageFaceEnhancerProcessId"])["status"] != "Queued"
                for s in started
            ),
            timeout=300,
        )
        statuses = [client.progress(s["imageFaceEnhancerProcessId"])["status"] for s in started]
        print(f"before the restart: {statuses}")
        assert statuses.count("Completed") < len(started), "the batch finished before the restart"
        dep.compose("restart", "redis")
        client.wait_completed(started, timeout=900)
        for one, original in zip(started, originals, strict=True):
            assert_enhanced(client.download(one), original)
        wait_for("/healthz after the broker restart", dep.healthz, timeout=120)

    with step("docker compose down, then up -d --wait: database and media kept"):
        listed_before = client.all_progresses()
        dep.compose("down")
        dep.compose("up", "-d", "--wait", "--wait-timeout", "600")
        wait_for("/healthz", dep.healthz, timeout=120)
        listed_after = client.all_progresses()  # the token from before the restart still works
        assert listed_after["totalCount"] == listed_before["totalCount"] == 17, (
            listed_before["totalCount"],
            listed_after["totalCount"],
        )
        assert_enhanced(client.download(first), photo())
        client.token = client.new_token()
        again = check_api_upload(client)
        assert again["imageFaceEnhancerProcessId"] != first["imageFaceEnhancerProcessId"]

    with step("docker compose down -v"):
        dep.compose("down", "-v")
        left = subprocess.run(  # noqa: S603
            [DOCKER, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert not left, f"volumes left after down -v: {left}"
        containers = subprocess.run(  # noqa: S603
            [DOCKER, "ps", "-aq"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert not containers, containers

    print("\n[compose-check] the user's cycle, step by step:")
    for name, took in TIMINGS:
        print(f"  {took:7.1f} s  {name}")
    print(f"  {time.monotonic() - began:7.1f} s  in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
