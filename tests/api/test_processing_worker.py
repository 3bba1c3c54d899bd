"""Processing through real `celery worker` processes: duplicates, kills, restarts.

A worker's pool child is killed with SIGKILL while it enhances, as the
kernel's OOM killer would; late ack and reject-on-worker-lost bring the
message back, and the attempt counter on the process decides whether it is
tried again or failed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.processing.messages import attempts_message
from enhancer.processing.start import AcceptedUpload, process_start
from enhancer.processing.tasks import QUEUE, process_enhance
from tests.api.face_enhancing_support import (
    START_URL,
    image_bytes,
    start_form,
    uploaded,
    wait_for_status,
)
from tests.conftest import start_worker, stop_worker, wait_for_worker, wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker_process", "shared_media", "channel_optional"),
]


def _start(client, alice, headers, side: int = 128) -> str:
    form = start_form(alice.application, uploadedImage=uploaded(image_bytes(side)))
    response = client.post(START_URL, form, headers=headers)
    assert response.status_code == 200, response.content
    return response.json()["imageFaceEnhancerProcessId"]


def _parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _kill_holder(process_id: str, attempt: int, worker_pids: set[int]) -> None:
    """SIGKILL the pool child that holds the process in this attempt."""

    def held() -> FaceEnhancerProcess | None:
        process = FaceEnhancerProcess.objects.get(pk=process_id)
        ok = process.status == ProcessStatus.PROCESSING and process.attempts == attempt
        return process if ok else None

    process = wait_until(held, timeout=60, what=f"attempt {attempt} to start", every=0.02)
    host, _, pid = process.worker.rpartition(":")
    assert host == socket.gethostname()
    # Only ever a child of one of the test's own worker processes.
    assert _parent_pid(int(pid)) in worker_pids
    os.kill(int(pid), signal.SIGKILL)


def test_a_second_delivery_of_the_same_message_does_nothing(
    client, alice, alice_headers, celery_worker_process
):
    process_id = _start(client, alice, alice_headers)
    duplicate = str(uuid.uuid4())
    process_enhance.apply_async(args=[process_id], queue=QUEUE, task_id=duplicate)

    process = wait_for_status(process_id, {"Completed", "Failed"})
    assert process.status == "Completed", process.error_message

    # The duplicate ran too, and found nothing to do (held or finished).
    pattern = re.compile(rf"process_enhance\[{duplicate}\] succeeded in [\d.]+s: '(\w+)'")
    outcome = wait_until(
        lambda: pattern.search(celery_worker_process.output()),
        timeout=60,
        what="the duplicate to run",
    )
    assert outcome.group(1) in {"held", "finished"}
    process.refresh_from_db()
    assert process.attempts == 1


def test_an_image_that_kills_its_worker_fails_after_max_attempts(
    client, alice, alice_headers, celery_worker_process
):
    process_id = _start(client, alice, alice_headers, side=256)  # ~1 s of engine per try

    for attempt in range(1, settings.FACE_ENHANCING_MAX_ATTEMPTS + 1):
        _kill_holder(process_id, attempt, {celery_worker_process.process.pid})

    process = wait_for_status(process_id, {"Completed", "Failed"})
    assert process.status == "Failed"
    assert process.attempts == settings.FACE_ENHANCING_MAX_ATTEMPTS
    assert process.error_message == attempts_message(process.attempts)
    assert celery_worker_process.process.poll() is None  # the worker itself lives on


def test_a_killed_worker_loses_nothing(client, alice, alice_headers, celery_worker_process):
    process_id = _start(client, alice, alice_headers, side=256)

    _kill_holder(process_id, 1, {celery_worker_process.process.pid})

    process = wait_for_status(process_id, {"Completed", "Failed"})
    assert process.status == "Completed", process.error_message
    assert process.attempts == 2


def test_a_restarted_worker_resends_what_a_dead_one_took_along(alice, monkeypatch):
    """The whole worker died with messages in hand (the embedded broker keeps no copy)."""
    upload = AcceptedUpload(image_bytes(128), "lost.jpg", "JPEG", 128, 128)
    # Started as the API starts them, but their messages never reach a queue.
    monkeypatch.setattr(
        "enhancer.processing.start.process_enqueue_or_discard", lambda process_id: None
    )
    started = [
        process_start(
            application=alice.application,
            user_id=uuid.uuid4(),
            aria_ratio=0.5,
            max_face_count=10,
            upload=upload,
        ).process
        for _ in range(2)
    ]
    monkeypatch.undo()
    # One was being enhanced by a worker process that no longer exists.
    FaceEnhancerProcess.objects.filter(pk=started[1].pk).update(
        status=ProcessStatus.PROCESSING, worker=f"{socket.gethostname()}:999999999", attempts=1
    )

    worker = start_worker()
    try:
        wait_for_worker(worker)
        done = [wait_for_status(p.pk, {"Completed", "Failed"}) for p in started]
    finally:
        stop_worker(worker)

    assert [p.status for p in done] == ["Completed", "Completed"]
    assert [p.attempts for p in done] == [1, 2]
    assert "re-sent 2 face enhancing process(es)" in worker.output()
