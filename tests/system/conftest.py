"""Fixtures of the system tests: the stack `make run` starts, a member's browser
session on it, the API credentials its dashboard uses, and photos.

System tests need no test database of pytest-django's: the stack has its own.
Their figures (durations, recovery times) are appended to
test-artifacts/reliability.jsonl and quoted in docs/reliability.md.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from PIL import Image, ImageOps

from dashboard.client import Connection, FaceEnhancerClient
from tests.conftest import ROOT
from tests.system.stack import Stack

FIGURES = ROOT / "test-artifacts" / "reliability.jsonl"
DONE_STATES = ("completed", "failed", "cancelled")


def record(test: str, **figures: object) -> None:
    """Keep a test's measured figures, with the configuration they were measured on."""
    FIGURES.parent.mkdir(exist_ok=True)
    configuration = "PostgreSQL + Redis" if os.environ.get("REDIS_URL") else "embedded defaults"
    line = {"test": test, "configuration": configuration, "at": time.strftime("%F %T"), **figures}
    with FIGURES.open("a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"\n[reliability] {json.dumps(line)}")


NOTABLE = re.compile(r"CRITICAL|ERROR|WARN|Traceback|TIMEOUT|exited:|Booting worker|gave up")


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    stack = Stack.create()
    try:
        stack.start()
        yield stack
    finally:
        # The whole output is kept in test-artifacts/; the notable lines are shown.
        FIGURES.parent.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        kept = FIGURES.parent / f"make-run-{name}.log"
        log = stack.log.read_text(errors="replace") if stack.log.exists() else ""
        kept.write_text(log)
        notable = [line for line in log.splitlines() if NOTABLE.search(line)]
        print(f"\n--- make run's notable lines (all of it in {kept}) ---")
        print("\n".join(notable[-60:]))
        stack.destroy()


@dataclass
class Member:
    """A logged-in member of the demo team, uploading as the Upload page's script does."""

    stack: Stack
    username: str
    password: str
    user_guid: uuid.UUID
    cookies: dict[str, str]

    def session(self) -> requests.Session:
        session = requests.Session()
        session.cookies.update(self.cookies)
        return session

    def upload(self, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """One file, one request, JSON asked for: the job's id."""
        session = self.session()
        response = session.post(
            f"{self.stack.url}/upload/",
            data={"aria_ratio": "0.5", "max_face_count": "10"},
            files={"images": (name, data, content_type)},
            headers={
                "Accept": "application/json",
                "X-CSRFToken": self.cookies["csrftoken"],
                "Referer": f"{self.stack.url}/upload/",
            },
            timeout=120,
        )
        assert response.status_code == 201, response.text[:500]
        return str(response.json()["job"]["id"])

    def jobs(self) -> dict[str, dict[str, object]]:
        """Every job of the team, read from the stack's database."""
        return self.stack.query(
            """
            import json
            from dashboard.models import Job
            print(json.dumps({
                str(j.pk): {"status": j.status, "process": str(j.process_id or ""),
                            "name": j.original_name,
                            "result": j.result.name or "", "faces": j.faces_detected,
                            "error": j.error_message}
                for j in Job.objects.all()
            }))
            """
        )  # type: ignore[return-value]


def _login(stack: Stack, username: str, password: str) -> dict[str, str]:
    session = requests.Session()
    page = session.get(f"{stack.url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the login page has no CSRF token"
    response = session.post(
        f"{stack.url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{stack.url}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, "the login was refused"
    return session.cookies.get_dict()


@pytest.fixture
def member(stack: Stack) -> Member:
    """A member of the demo team that `make run` created (bootstrap_demo)."""
    password = f"pw-{uuid.uuid4().hex[:12]}"
    guid = stack.query(
        f"""
        import json
        from django.contrib.auth import get_user_model
        from dashboard.models import Membership, Team
        user = get_user_model().objects.create_user("sam", password="{password}")
        membership = Membership.objects.create(team=Team.objects.get(name="Demo team"), user=user)
        print(json.dumps(str(membership.user_guid)))
        """
    )
    cookies = _login(stack, "sam", password)
    return Member(stack, "sam", password, uuid.UUID(str(guid)), cookies)


@pytest.fixture
def demo_api(stack: Stack) -> Connection:
    """The credentials of the demo team's connection: the API client a poller would hold."""
    fields = stack.query(
        """
        import json
        from dashboard.models import Team
        c = Team.objects.get(name="Demo team").connection
        print(json.dumps({"application_id": str(c.application_id), "api_key": c.api_key,
                          "api_secret": c.api_secret, "jwt_private_key": c.jwt_private_key}))
        """
    )
    assert isinstance(fields, dict)
    return Connection(
        base_url=stack.url,
        application_id=uuid.UUID(fields["application_id"]),
        api_key=fields["api_key"],
        api_secret=fields["api_secret"],
        jwt_private_key=fields["jwt_private_key"],
    )


def api_client(connection: Connection) -> FaceEnhancerClient:
    return FaceEnhancerClient(connection, retries=0)


def photos(count: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """`count` different real portraits: the astronaut at several sizes, some mirrored,
    each with a few pixels of its own so that no two files are the same."""
    from skimage import data

    portrait = Image.fromarray(data.astronaut())
    rng = random.Random(seed)
    out = []
    for n in range(count):
        side = rng.choice((256, 320, 384, 448, 512))
        image = portrait.resize((side, side))
        if n % 2:
            image = ImageOps.mirror(image)
        image.putpixel((n % side, 0), (n % 256, 255 - n % 256, 7))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        out.append((f"portrait-{n:02d}.jpg", buffer.getvalue()))
    return out
