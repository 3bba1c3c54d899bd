"""Faults a server meets, during a batch on the processes `make run` starts.

The enhance worker's pool child is SIGKILLed mid-job (the OOM killer), the
broker is restarted (with its data lost, on the Redis configuration), and the
gunicorn workers are SIGKILLed in the middle of an upload. Every job still
finishes exactly once, none stays Queued or Processing, the interrupted upload
leaves nothing behind, and the time to recover is measured.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from dashboard.client import ApiError
from tests.conftest import wait_until
from tests.system.conftest import DONE_STATES, api_client, photos, record

pytestmark = [pytest.mark.system, pytest.mark.slow]

BATCH = 20


def test_every_job_finishes_once_through_killed_workers_and_a_broker_restart(
    stack, member, demo_api
):
    figures: dict[str, object] = {"jobs": BATCH}
    programs_before = stack.program_pids()
    with ThreadPoolExecutor(BATCH) as pool:
        job_ids = list(pool.map(lambda photo: member.upload(*photo), photos(BATCH, seed=1)))
    began = time.monotonic()
    client = api_client(demo_api)

    # 1. The enhance worker's pool child dies mid-job (tried again if the job
    # happened to finish in the instant before the kill).
    for _ in range(3):
        processing = wait_until(
            lambda: _api_states(client, member).get("Processing"),
            timeout=300,
            what="a process to be Processing",
            every=0.3,
        )
        victims = stack.pool_children("worker-enhance")
        assert victims
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        time.sleep(1)
        if processing[0] not in _api_states(client, member).get("Completed", []):
            break

    # 2. At once, with work still queued, the broker restarts.
    done_before = _done(member)
    assert done_before < BATCH, "the batch finished before the broker restart"
    stack.restart_broker(downtime=10)
    back_at = time.monotonic()
    wait_until(
        lambda: _done(member) > done_before,
        timeout=300,
        what="a job to finish after the broker came back",
        every=1,
    )
    figures["first_job_done_after_broker_back_s"] = round(time.monotonic() - back_at, 1)
    stack.wait_healthy(timeout=120)
    figures["healthy_after_broker_back_s"] = round(time.monotonic() - back_at, 1)

    # 3. The web workers die in the middle of an upload.
    temp_dir = Path(
        str(
            stack.query(
                "import json; from django.conf import settings; "
                "print(json.dumps(str(settings.FILE_UPLOAD_TEMP_DIR)))"
            )
        )
    )
    outcome = _interrupted_upload(stack, member, temp_dir)
    figures["web_back_after_kill_s"] = outcome

    # Everything finishes.
    jobs = wait_until(
        lambda: (j := member.jobs()) and all(v["status"] in DONE_STATES for v in j.values()) and j,
        timeout=900,
        what="every job to finish",
        every=3,
    )
    figures["all_done_s"] = round(time.monotonic() - began, 1)

    # Exactly once: one Done job per upload (the interrupted one made none),
    # one Completed process per job, one TaskCompleted webhook per process.
    assert sorted(jobs) == sorted(job_ids)
    assert {v["status"] for v in jobs.values()} == {"completed"}, jobs
    api = stack.query(
        """
        import json
        from collections import Counter
        from enhancer.models import FaceEnhancerProcess
        from enhancer.notifications.models import MessageType, WebhookDelivery
        completed = WebhookDelivery.objects.filter(message_type=MessageType.TASK_COMPLETED)
        print(json.dumps({
            "processes": {
                str(p.pk): [p.status, p.attempts, p.finished_at.timestamp()]
                for p in FaceEnhancerProcess.objects.all()
            },
            "completed_webhooks": Counter(str(d.process_id) for d in completed),
            "webhook_states": Counter(d.status for d in completed),
        }))
        """
    )
    assert isinstance(api, dict)
    processes = api["processes"]
    assert sorted(processes) == sorted(v["process"] for v in jobs.values())
    assert {status for status, _, _ in processes.values()} == {"Completed"}
    assert api["completed_webhooks"] == dict.fromkeys(processes, 1)
    assert api["webhook_states"] == {"Delivered": BATCH}
    # The process whose worker was killed ran again, once.
    _, attempts, completed_at = processes[processing[0]]
    assert attempts == 2
    figures["killed_child_job_completed_after_s"] = round(completed_at - killed_at, 1)

    # The results are there, the originals of the interrupted upload are not.
    session = member.session()
    for job_id in job_ids:
        assert session.get(f"{stack.url}/jobs/{job_id}/result", timeout=30).status_code == 200

    # No program of the stack had to be restarted for any of it (the killed
    # pool child and gunicorn workers are replaced by their own parents).
    after = stack.program_pids()
    same = {"web", "worker-enhance", "worker-default", "beat"}
    assert {k: after[k] for k in same} == {k: programs_before[k] for k in same}
    assert requests.get(f"{stack.url}/healthz", timeout=30).status_code == 200
    record("chaos", **figures)


def _interrupted_upload(stack, member, temp_dir: Path) -> float:
    """Stream a 6 MB upload slowly, SIGKILL the gunicorn workers half-way; the
    seconds until the web answers again. The upload's temporary file must not
    outlive the cleanup, and the upload must leave no job behind."""
    jobs_before = set(member.jobs())
    files_before = set(temp_dir.iterdir()) if temp_dir.exists() else set()
    boundary = uuid.uuid4().hex
    payload = os.urandom(6 * 1024 * 1024)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="images"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_length = len(head) + len(payload) + len(tail)
    sent_half = threading.Event()
    failure: list[BaseException] = []

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        try:
            conn.putrequest("POST", "/upload/")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(body_length))
            conn.putheader("Accept", "application/json")
            conn.putheader("X-CSRFToken", member.cookies["csrftoken"])
            conn.putheader("Referer", f"{stack.url}/upload/")
            conn.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in member.cookies.items()))
            conn.endheaders()
            conn.send(head)
            step = 256 * 1024
            for offset in range(0, len(payload), step):
                conn.send(payload[offset : offset + step])
                if offset >= len(payload) // 2:
                    sent_half.set()
                time.sleep(0.1)
            conn.send(tail)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException) as e:
            failure.append(e)
        finally:
            sent_half.set()
            conn.close()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    assert sent_half.wait(60)
    time.sleep(0.3)
    in_flight = set(temp_dir.iterdir()) - files_before
    assert in_flight, f"the upload was not being written to {temp_dir}"
    for pid in stack.pool_children("web"):
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    sender.join(60)
    assert failure, "the upload went through although its worker was killed"
    wait_until(
        lambda: _answers(f"{stack.url}/healthz"),
        timeout=60,
        what="gunicorn to replace its workers",
    )
    back_after = round(time.monotonic() - killed_at, 1)
    # Nothing of it is left once the cleanup has run.
    wait_until(
        lambda: not (set(temp_dir.iterdir()) & in_flight),
        timeout=180,
        what=f"the interrupted upload's temporary file {in_flight} to be removed",
        every=2,
    )
    assert set(member.jobs()) == jobs_before
    return back_after


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False


def _api_states(client, member) -> dict[str, list[str]]:
    """The member's processes by status, as CheckUserProgress tells them."""
    try:
        body = client.check_user_progress(user_id=member.user_guid, pageSize=100)
    except ApiError:
        return {}
    states: dict[str, list[str]] = {}
    for item in body["items"]:
        states.setdefault(item["status"], []).append(item["imageFaceEnhancerProcessId"])
    return states


def _done(member) -> int:
    return sum(1 for v in member.jobs().values() if v["status"] == "completed")
