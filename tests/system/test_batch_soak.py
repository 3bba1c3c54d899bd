"""A team's batch on the processes `make run` starts: 30 photos uploaded at once
from a logged-in dashboard session while 20 API clients poll CheckUserProgress.

Every job reaches Done with its enhanced image, each API process gets exactly
one TaskCompleted webhook, no process of the stack dies or is restarted, and
/healthz is 200 at the end.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from dashboard.client import ApiError
from tests.conftest import wait_until
from tests.system.conftest import DONE_STATES, api_client, photos, record

pytestmark = [pytest.mark.system, pytest.mark.slow]

UPLOADS = 30
POLLERS = 20


def test_a_batch_of_30_with_20_pollers_all_done_nothing_dies(stack, member, demo_api):
    programs_before = stack.program_pids()
    batch = photos(UPLOADS)

    # The pollers: 20 API clients, each polling the member's processes about once a second.
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []

    def poll() -> None:
        client = api_client(demo_api)
        while not stop.is_set():
            began = time.monotonic()
            try:
                client.check_user_progress(user_id=member.user_guid, pageSize=50)
            except ApiError as e:
                # 404: no process of this user yet (the first seconds).
                if e.status != 404:
                    errors.append(f"{e.status} {e.message}")
            latencies.append(time.monotonic() - began)
            stop.wait(1.0)

    pollers = [threading.Thread(target=poll, daemon=True) for _ in range(POLLERS)]
    for thread in pollers:
        thread.start()

    began = time.monotonic()
    with ThreadPoolExecutor(UPLOADS) as pool:
        job_ids = list(pool.map(lambda photo: member.upload(*photo), batch))
    uploaded_s = time.monotonic() - began
    assert len(set(job_ids)) == UPLOADS

    jobs = wait_until(
        lambda: (j := member.jobs()) and all(v["status"] in DONE_STATES for v in j.values()) and j,
        timeout=900,
        what=f"{UPLOADS} jobs to finish",
        every=3,
    )
    finished_s = time.monotonic() - began
    stop.set()
    for thread in pollers:
        thread.join(30)

    # Every job Done, with its enhanced image, as the member downloads it.
    assert sorted(jobs) == sorted(job_ids)
    assert {v["status"] for v in jobs.values()} == {"completed"}, jobs
    session = member.session()
    for job_id in job_ids:
        response = session.get(f"{stack.url}/jobs/{job_id}/result", timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(response.content)).size == _size(batch, jobs, job_id)

    # The API side: one process per job, Completed, and exactly one TaskCompleted
    # webhook each, delivered.
    api = stack.query(
        """
        import json
        from collections import Counter
        from enhancer.models import FaceEnhancerProcess
        from enhancer.notifications.models import MessageType, NotificationChannel, WebhookDelivery
        completed = WebhookDelivery.objects.filter(message_type=MessageType.TASK_COMPLETED)
        print(json.dumps({
            "processes": {str(p.pk): p.status for p in FaceEnhancerProcess.objects.all()},
            "completed_webhooks": Counter(str(d.process_id) for d in completed),
            "webhook_states": Counter(d.status for d in completed),
            "attempts": sum(d.attempts for d in completed),
            "channels": NotificationChannel.objects.count(),
        }))
        """
    )
    assert isinstance(api, dict)
    processes = api["processes"]
    assert sorted(processes) == sorted(v["process"] for v in jobs.values())
    assert set(processes.values()) == {"Completed"}
    assert api["completed_webhooks"] == dict.fromkeys(processes, 1)
    assert api["webhook_states"] == {"Delivered": UPLOADS}
    assert api["channels"] == 1

    # The pollers were answered every time.
    assert errors == []
    ordered = sorted(latencies)

    # No process of the stack died or was restarted, and it is healthy.
    assert stack.program_pids() == programs_before
    assert requests.get(f"{stack.url}/healthz", timeout=30).status_code == 200

    record(
        "batch soak",
        uploads=UPLOADS,
        pollers=POLLERS,
        upload_seconds=round(uploaded_s, 1),
        all_done_seconds=round(finished_s, 1),
        polls=len(latencies),
        poll_p50_ms=round(statistics.median(ordered) * 1000),
        poll_p99_ms=round(ordered[int(len(ordered) * 0.99) - 1] * 1000),
        webhook_attempts=api["attempts"],
    )


def _size(batch, jobs, job_id) -> tuple[int, int]:
    """The size of the photo a job was made from: the result keeps it."""
    name = jobs[job_id]["name"]
    data = dict(batch)[name]
    return Image.open(io.BytesIO(data)).size
