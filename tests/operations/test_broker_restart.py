"""Broker restarts: a real redis-server restarted under a real worker and a real beat.

The test owns its redis-server (tests/redis_server.py), never the run's broker
nor a system Redis. Restarted with its append-only file, the server keeps its
queues but not the messages the worker held; restarted without its data, it
loses every queued message too. Either way the worker must reconnect and keep
consuming, beat must keep running, and every process must complete exactly
once, well before the 10-minute stale sweep (FACE_ENHANCING_REQUEUE_AFTER) could
have helped: operations.broker notices the restart and sends the work again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
import redis

from config.celery import ping
from enhancer.models import FaceEnhancerProcess, ProcessStatus
from operations.broker import MARKER_KEY, broker_restarted
from tests.api.face_enhancing_support import (
    START_URL,
    image_bytes,
    start_form,
    uploaded,
)
from tests.conftest import (
    ROOT,
    WorkerProcess,
    start_worker,
    stop_worker,
    use_broker,
    wait_for_worker,
    wait_until,
)
from tests.redis_server import RedisServer

JOBS = 6
# One face, enhanced in a second or two: most processes are still queued at the restart.
SIDE = 256
# Generous but bounded: recovery is expected within seconds of the broker's
# return, processing of the small images within a few seconds each.
RECOVERY_TIMEOUT = 120
CHECK_INTERVAL = "2"


@pytest.fixture
def server() -> Iterator[RedisServer]:
    # Under /tmp: a unix socket path must stay short.
    server = RedisServer(Path(tempfile.mkdtemp(prefix="fe-restart-", dir="/tmp")))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def on_server(server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """This process and the processes it starts use `server` as broker, backend and cache."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("EMBEDDED_REDIS_SOCKET", str(server.sock))
    monkeypatch.setenv("BROKER_CHECK_INTERVAL", CHECK_INTERVAL)
    with use_broker(url=server.broker_url()):
        yield server


def _redis(server: RedisServer) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.sock))


def _start_beat(folder: Path) -> subprocess.Popen[bytes]:
    log = (folder / "beat.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "beat",
            "-l", "info", "-s", str(folder / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _statuses(ids: list[str]) -> dict[str, str]:
    return dict(FaceEnhancerProcess.objects.filter(pk__in=ids).values_list("id", "status"))


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shared_media", "channel_optional")
@pytest.mark.parametrize("data", ["kept", "lost"])
def test_work_survives_a_broker_restart(on_server, client, alice, alice_headers, data, capsys):
    server = on_server
    worker: WorkerProcess | None = None
    beat = _start_beat(server.folder)
    try:
        worker = start_worker("default,enhance", concurrency=1)
        wait_for_worker(worker)
        # Beat's first look at the broker sets the marker.
        wait_until(
            lambda: _redis(server).exists(MARKER_KEY), timeout=30, what="beat's first broker check"
        )

        ids = []
        for _ in range(JOBS):
            form = start_form(alice.application, uploadedImage=uploaded(image_bytes(SIDE)))
            response = client.post(START_URL, form, headers=alice_headers)
            assert response.status_code == 200, response.content
            ids.append(response.json()["imageFaceEnhancerProcessId"])
        wait_until(
            lambda: (
                ProcessStatus.PROCESSING in _statuses(ids).values()
                or ProcessStatus.COMPLETED in _statuses(ids).values()
            ),
            timeout=60,
            what="the first process to start",
        )

        # The worker also holds countdowns, as it does dashboard polls and
        # webhook retries: what made it die of the restart (config/kombu_redis_fixes.py).
        for _ in range(10):
            ping.apply_async(countdown=300, queue="default")
        time.sleep(1)
        queued = list(_statuses(ids).values()).count(ProcessStatus.QUEUED)
        assert queued >= 2, _statuses(ids)
        server.stop()
        if data == "lost":
            server.wipe()  # as `redis-cli shutdown nosave` on a Redis without persistence
        time.sleep(5)
        server.start()
        back = time.monotonic()
        if data == "lost":
            assert _redis(server).llen("enhance") == 0  # every queued message is gone

        def all_completed() -> bool:
            return set(_statuses(ids).values()) == {ProcessStatus.COMPLETED}

        wait_until(
            all_completed,
            timeout=RECOVERY_TIMEOUT,
            what=f"every process to complete ({_statuses(ids)})",
        )
        recovered_in = time.monotonic() - back

        assert worker.process.poll() is None, worker.output()[-4000:]
        assert beat.poll() is None, (server.folder / "beat.log").read_text()[-4000:]
        # Still consuming: a new health ping is answered through the restarted broker.
        wait_for_worker(worker, timeout=30)
        for process in FaceEnhancerProcess.objects.filter(pk__in=ids):
            assert process.status == ProcessStatus.COMPLETED
            assert process.attempts == 1, f"{process.id} claimed {process.attempts} times"
            assert process.render_tasks.get().result.name
        with capsys.disabled():
            print(
                f"\nbroker restart with its data {data}: {queued} of {JOBS} processes were "
                f"queued; all completed {recovered_in:.1f} s after the broker came back"
            )
        assert recovered_in < 90
    finally:
        _stop(beat)
        if worker is not None:
            stop_worker(worker)
            log = worker.output()
            assert "Unrecoverable error" not in log, log[-4000:]


@pytest.mark.django_db
def test_the_marker_tells_a_restart_once(on_server):
    server = on_server
    assert broker_restarted()  # the first look ever: nothing recorded yet
    assert not broker_restarted()

    server.stop()
    server.start()  # data kept, a new server run
    assert broker_restarted()
    assert not broker_restarted()

    server.stop()
    server.wipe()
    server.start()
    assert broker_restarted()
    assert not broker_restarted()


def test_a_task_acknowledged_after_its_channel_closed_leaves_the_worker_alive(server, caplog):
    """A task that ran through an outage acknowledges on the old connection's closed
    channel. Without config/kombu_redis_fixes.py kombu rebuilds a connection pool
    from that channel's connection, now None, raises AttributeError, and the worker
    dies with "Unrecoverable error" (the traceback seen in tests/system/test_chaos.py)."""
    queue = kombu.Queue("ack-after-close", routing_key="ack-after-close")
    with kombu.Connection(server.broker_url()) as connection:
        connection.Producer().publish({"n": 1}, routing_key=queue.name, declare=[queue])
        channel = connection.channel()
        message = queue(channel).get(no_ack=False)
        assert message is not None
        channel.close()
        # As the channel is left when its close could not give the message back
        # (the broker was down then): no pool, no connection.
        channel._disconnect_pools()
        assert channel.connection is None

        message.ack()  # the task finishing after the reconnection: no exception

    assert "acknowledged on a closed channel" in caplog.text
