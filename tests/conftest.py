"""Fixtures shared by the whole suite.

The suite runs on whatever the environment configures: the embedded defaults
(SQLite, and the run's own embedded redis-server started by the plugin
tests/embedded_broker.py) or PostgreSQL and Redis through DATABASE_URL and
REDIS_URL. A real Celery worker process is started on the same broker and the
same test database when a test asks for `celery_worker_process`.

The people tests are written about (alice, bob, charlie) are described in
tests/people.py; their fixtures are here, for the API's, the operations' and
the dashboard's tests alike. Waits go through `wait_until`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import kombu.pools
import pytest
from django.conf import settings

from config.celery import app as celery_app
from enhancer.auth.credentials import IssuedCredential
from tests.people import application_of, credential_headers, user_named

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# The suite's webhook receivers listen on 127.0.0.1, so the run allows loopback
# targets as an operator would (the default is false, issue 12): here, and in
# the worker and server processes the tests start, which inherit the variable.
os.environ.setdefault("NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK", "true")
settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = (
    os.environ["NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK"].lower() == "true"
)


@pytest.fixture(autouse=True)
def _heartbeat_inside_the_test_transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """No heartbeat during a test that runs the engine inside its own transaction.

    The heartbeat beats from a thread with its own database connection, which
    cannot see a row the test has not committed: on a loaded machine, an engine
    run longer than the interval took that for a lost claim and stopped itself.
    Transactional tests and the worker processes keep the real interval.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in (
        request.fixturenames
    )
    if transactional or (marker is not None and marker.kwargs.get("transaction")):
        yield
        return
    saved = settings.FACE_ENHANCING_HEARTBEAT_INTERVAL
    settings.FACE_ENHANCING_HEARTBEAT_INTERVAL = 600.0
    try:
        yield
    finally:
        settings.FACE_ENHANCING_HEARTBEAT_INTERVAL = saved


@pytest.fixture
def alice(db) -> IssuedCredential:
    return application_of("alice")


@pytest.fixture
def bob(db) -> IssuedCredential:
    return application_of("bob")


@pytest.fixture
def alice_headers(alice) -> dict[str, str]:
    return credential_headers(alice)


@pytest.fixture
def bob_headers(bob) -> dict[str, str]:
    return credential_headers(bob)


@pytest.fixture
def charlie(db):
    """A dashboard user who can log in and belongs to no team."""
    return user_named("charlie")


@pytest.fixture
def shared_media(alice, bob) -> Iterator[None]:
    """The real media folder, shared with the worker process; alice's and bob's
    files are removed after the test."""
    yield
    for issued in (alice, bob):
        shutil.rmtree(
            Path(settings.MEDIA_ROOT) / "face-enhancing" / str(issued.application.id),
            ignore_errors=True,
        )


@pytest.fixture
def channel_optional(settings) -> None:
    """Start jobs without a notification channel (tested on its own in the start tests)."""
    settings.NOTIFICATION_CHANNEL_REQUIRED = False


@contextmanager
def use_broker(*, url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker for a while."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.result_backend)
    conf.broker_url = url
    conf.result_backend = url
    _reset_connections()
    try:
        yield
    finally:
        conf.broker_url, conf.result_backend = saved
        _reset_connections()


def _reset_connections() -> None:
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # kombu keeps producer pools in a global registry keyed by connection.
    kombu.pools.reset()
    # The result backend is cached per thread; drop it so it is rebuilt.
    celery_app._local.__dict__.pop("backend", None)


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def run_database_url() -> str:
    """The URL of the run's test database, for the processes the tests start."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{db['NAME']}"


def start_worker(
    queues: str = "default,enhance", *, concurrency: int = 1, server_url: str | None = None
) -> WorkerProcess:
    """Start `celery worker` as a real process on this run's broker and test database.

    With `server_url` (the live server's), the dashboard's tasks in the worker
    call the API there and register their webhook receiver there.
    """
    env = os.environ.copy()
    env["DATABASE_URL"] = run_database_url()
    if server_url:
        env["FACE_ENHANCER_API_URL"] = server_url
        env["DASHBOARD_PUBLIC_URL"] = server_url
    log = Path(tempfile.mkstemp(prefix="worker-", suffix=".log", dir=settings.VAR_DIR)[1])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return WorkerProcess(process=process, log=log)


def stop_worker(worker: WorkerProcess, timeout: float = 20) -> None:
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGTERM)
        try:
            worker.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()


def wait_for_worker(worker: WorkerProcess, timeout: float = 90) -> None:
    from config.health import OK, check_worker

    def answers() -> bool:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited early:\n{worker.output()}")
        return check_worker() == OK

    try:
        wait_until(answers, timeout=timeout, what="the worker to answer", every=0)
    except AssertionError:
        raise RuntimeError(
            f"the worker did not answer within {timeout} s:\n{worker.output()}"
        ) from None


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, live_server
) -> Iterator[WorkerProcess]:
    """A real `celery worker` process consuming both queues for the whole run.

    It has its own database connection, so tests that need it to see their
    rows must commit them: use `@pytest.mark.django_db(transaction=True)`.
    Its dashboard tasks talk to the API of the run's live server, and the
    API's webhooks reach the dashboard there.
    """
    worker = start_worker(server_url=live_server.url)
    try:
        wait_for_worker(worker)
        yield worker
    finally:
        stop_worker(worker)
        print(f"\n--- celery worker log ({worker.log}) ---\n{worker.output()[-4000:]}")


def wait_until(check: Callable[[], T], *, timeout: float, what: str, every: float = 0.2) -> T:
    """Call `check` until it returns something truthy; that value. Fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
