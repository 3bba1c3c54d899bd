"""Processing a face enhancing process: claim, engine, progress, result, failure.

These run the task's code in the test process (the engine replaced by a fake
where its behaviour must be controlled); test_processing_worker.py does the
same through a real worker process, and kills it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from billiard.exceptions import TimeLimitExceeded
from celery.exceptions import Retry, SoftTimeLimitExceeded
from celery.signals import task_failure, worker_process_init, worker_ready
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enhancer.engine import CorruptImage, EngineError, EnhanceResult, FaceReport
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState
from enhancer.processing.claims import ClaimOutcome
from enhancer.processing.messages import NOT_QUEUED, UPLOAD_MISSING
from enhancer.processing.recovery import process_recover_all
from enhancer.processing.run import process_run
from enhancer.processing.start import AcceptedUpload, process_enqueue, process_start
from enhancer.processing.tasks import (
    process_enhance,
)
from tests.api.face_enhancing_support import (
    image_bytes,
    make_process,
    media_files,
)

pytestmark = pytest.mark.usefixtures("media")

HOST = socket.gethostname()


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


class FakeEnhancer:
    """Reports progress 0..100 one percent at a time, then returns a tiny result."""

    def __init__(self, *, raises: BaseException | None = None, during=None) -> None:
        self.raises = raises
        self.during = during  # called with each percent, before reporting it
        self.calls = 0

    def enhance(self, data, options, progress=None):
        self.calls += 1
        self.options = options
        for percent in range(101):
            if self.during:
                self.during(percent)
            progress(percent)
            if self.raises is not None and percent == 40:
                raise self.raises
        return EnhanceResult(
            image_bytes=b"result-bytes",
            preview_bytes=b"preview",
            format="PNG",
            content_type="image/png",
            extension="png",
            width=128,
            height=128,
            faces=[FaceReport(box=(1, 2, 30, 40), score=0.97, enhanced=True)],
            faces_detected=1,
            faces_enhanced=1,
        )


@pytest.fixture
def fake_engine(monkeypatch):
    def install(engine: FakeEnhancer) -> FakeEnhancer:
        monkeypatch.setattr("enhancer.processing.run.get_enhancer", lambda config: engine)
        return engine

    return install


@pytest.fixture
def events(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(
        "enhancer.processing.event_publisher.publish_event", lambda **kw: sent.append(kw)
    )
    return sent


@pytest.fixture
def process(alice, django_capture_on_commit_callbacks) -> FaceEnhancerProcess:
    """A process started as the API starts one (its message not sent)."""
    content = image_bytes(128)
    upload = AcceptedUpload(content, "portrait.jpg", "JPEG", 128, 128)
    with django_capture_on_commit_callbacks(execute=False):
        started = process_start(
            application=alice.application,
            user_id=uuid.uuid4(),
            aria_ratio=0.3,
            max_face_count=4,
            upload=upload,
        )
    return started.process


def _held_by(process, worker: str, *, attempts: int = 1, beat_seconds_ago: float = 0) -> None:
    FaceEnhancerProcess.objects.filter(pk=process.pk).update(
        status=ProcessStatus.PROCESSING,
        worker=worker,
        attempts=attempts,
        started_at=timezone.now() - timedelta(seconds=beat_seconds_ago),
        heartbeat_at=timezone.now() - timedelta(seconds=beat_seconds_ago),
    )


def test_the_real_engine_completes_a_process(process, events):
    assert process_run(process_id=process.id) is ClaimOutcome.CLAIMED

    process.refresh_from_db()
    task = process.render_tasks.get()
    assert process.status == ProcessStatus.COMPLETED
    assert process.progress == 100
    assert process.attempts == 1
    assert process.faces_detected == process.faces_enhanced == 1
    assert process.faces[0]["enhanced"] is True
    assert process.finished_at is not None and process.error_message == ""
    assert task.render_state == RenderState.COMPLETED
    assert task.content_type == "image/jpeg"
    assert (task.width, task.height) == (128, 128)
    with task.result.open("rb") as result:
        assert len(result.read()) == task.size > 0
    assert task.preview.size == task.preview_size
    assert events[0]["message_type"] == "ImageFaceEnhancingProgress"
    assert events[-1] == {
        "message_type": "ImageFaceEnhancingTaskCompleted",
        "application_id": process.application_id,
        "user_id": process.user_id,
        "process_id": process.id,
        "task_id": task.id,
        "progress": 100,
        "is_successful": True,
        "error_message": None,
        "result_file_name": task.result.name,
    }


def test_the_parameters_reach_the_engine(process, fake_engine, events):
    engine = fake_engine(FakeEnhancer())
    process_run(process_id=process.id)
    assert (engine.options.aria_ratio, engine.options.max_face_count) == (0.3, 4)


class TestClaim:
    def test_a_second_delivery_of_a_finished_process_does_nothing(
        self, process, fake_engine, events
    ):
        engine = fake_engine(FakeEnhancer())
        process_run(process_id=process.id)
        before = FaceEnhancerProcess.objects.get(pk=process.pk)
        sent = len(events)

        assert process_run(process_id=process.id) is ClaimOutcome.FINISHED

        after = FaceEnhancerProcess.objects.get(pk=process.pk)
        assert engine.calls == 1
        assert (after.attempts, after.updated_at) == (1, before.updated_at)
        assert len(events) == sent

    def test_a_process_held_by_a_live_worker_is_left_to_it(self, process, fake_engine):
        engine = fake_engine(FakeEnhancer())
        _held_by(process, f"{HOST}:{os.getppid()}")  # our parent: alive

        assert process_run(process_id=process.id) is ClaimOutcome.HELD

        process.refresh_from_db()
        assert (process.status, process.attempts, engine.calls) == ("Processing", 1, 0)

    def test_one_held_on_another_host_is_looked_at_again_later(self, process, fake_engine):
        fake_engine(FakeEnhancer())
        _held_by(process, "elsewhere:123")
        with pytest.raises(Retry):
            process_enhance.run(str(process.id))
        process.refresh_from_db()
        assert process.worker == "elsewhere:123"

    def test_one_whose_worker_died_on_this_host_is_taken_over(self, process, fake_engine):
        fake_engine(FakeEnhancer())
        _held_by(process, f"{HOST}:{_dead_pid()}")

        assert process_run(process_id=process.id) is ClaimOutcome.CLAIMED

        process.refresh_from_db()
        assert (process.status, process.attempts) == ("Completed", 2)
        assert process.worker.startswith(f"{HOST}:{os.getpid()}")

    def test_one_whose_heartbeat_is_stale_is_taken_over(self, process, fake_engine, settings):
        fake_engine(FakeEnhancer())
        _held_by(
            process,
            "elsewhere:123",
            beat_seconds_ago=settings.FACE_ENHANCING_HEARTBEAT_TIMEOUT + 1,
        )
        assert process_run(process_id=process.id) is ClaimOutcome.CLAIMED
        process.refresh_from_db()
        assert (process.status, process.attempts) == ("Completed", 2)

    def test_after_max_attempts_it_fails_instead_of_running_again(
        self, process, fake_engine, events, settings
    ):
        engine = fake_engine(FakeEnhancer())
        _held_by(process, f"{HOST}:{_dead_pid()}", attempts=settings.FACE_ENHANCING_MAX_ATTEMPTS)

        assert process_run(process_id=process.id) is ClaimOutcome.EXHAUSTED

        process.refresh_from_db()
        assert engine.calls == 0
        assert process.status == ProcessStatus.FAILED
        assert "stopped unexpectedly 3 times" in process.error_message
        assert process.render_tasks.get().render_state == RenderState.FAILED
        assert events[-1]["is_successful"] is False
        assert events[-1]["error_message"] == process.error_message
        assert process_run(process_id=process.id) is ClaimOutcome.FINISHED

    def test_a_deleted_process_is_no_error(self, db):
        assert process_run(process_id=uuid.uuid4()) is ClaimOutcome.GONE

    def test_a_worker_that_lost_its_claim_stops_without_writing(self, process, fake_engine, events):
        def taken_over(percent: int) -> None:
            if percent == 50:
                FaceEnhancerProcess.objects.filter(pk=process.pk).update(worker="other:1")

        fake_engine(FakeEnhancer(during=taken_over))
        process_run(process_id=process.id)

        process.refresh_from_db()
        assert (process.status, process.worker) == ("Processing", "other:1")
        assert process.render_tasks.get().render_state == RenderState.ENHANCING
        assert not any("result" in p.name for p in media_files())
        assert [e["message_type"] for e in events if not e["progress"] < 100] == []


class TestProgress:
    def _progress_writes(self, queries) -> list[str]:
        return [
            q["sql"]
            for q in queries
            if q["sql"].startswith('UPDATE "enhancer_faceenhancerprocess"')
            and '"progress"' in q["sql"]
        ]

    def test_progress_is_written_in_steps_not_per_percent(
        self, process, fake_engine, events, settings
    ):
        settings.FACE_ENHANCING_PROGRESS_INTERVAL = 3600  # only the step counts here
        seen: list[int] = []

        def look(percent: int) -> None:
            seen.append(FaceEnhancerProcess.objects.get(pk=process.pk).progress)

        fake_engine(FakeEnhancer(during=look))

        with CaptureQueriesContext(connection) as queries:
            process_run(process_id=process.id)

        writes = self._progress_writes(queries.captured_queries)
        # started, upload read, 18 steps of 5 over the engine's 90 points, storing, done
        assert 10 <= len(writes) <= 100 // settings.FACE_ENHANCING_PROGRESS_STEP + 5
        assert seen == sorted(seen) and seen[-1] >= 90
        process.refresh_from_db()
        assert process.progress == 100

    def test_progress_notifications_at_start_and_every_quarter(self, process, fake_engine, events):
        fake_engine(FakeEnhancer())
        process_run(process_id=process.id)
        sequence = [(e["message_type"][len("ImageFaceEnhancing") :], e["progress"]) for e in events]
        assert sequence[0] == ("Progress", 2)
        quarters = [p // 25 for kind, p in sequence[1:-1]]
        assert quarters == [1, 2, 3]
        assert sequence[-1] == ("TaskCompleted", 100)


class TestFailure:
    @pytest.mark.parametrize(
        ("error", "message"),
        [
            (CorruptImage(), CorruptImage.default_message),
            (EngineError("No model here."), "No model here."),
            (SoftTimeLimitExceeded(), "took longer than the 900 s limit"),
            (MemoryError(), "needs more memory than this server has"),
            (RuntimeError("ncnn blew up at 0x7f00"), "unexpected error"),
        ],
    )
    def test_an_error_fails_the_process_with_a_message_for_the_user(
        self, process, fake_engine, events, error, message
    ):
        fake_engine(FakeEnhancer(raises=error))

        process_run(process_id=process.id)

        process.refresh_from_db()
        assert process.status == ProcessStatus.FAILED
        assert message in process.error_message
        assert "0x7f00" not in process.error_message  # no internals
        assert process.finished_at is not None
        assert process.render_tasks.get().render_state == RenderState.FAILED
        last = events[-1]
        assert last["message_type"] == "ImageFaceEnhancingTaskCompleted"
        assert (last["is_successful"], last["error_message"]) == (False, process.error_message)

    def test_a_missing_upload_fails_it(self, process, fake_engine, events):
        fake_engine(FakeEnhancer())
        process.upload.delete(save=False)
        process_run(process_id=process.id)
        process.refresh_from_db()
        assert process.error_message == UPLOAD_MISSING

    def test_a_hard_time_limit_is_recorded_by_the_main_process(self, process, events, monkeypatch):
        # The handler closes the main process's connection; keep the test's open.
        monkeypatch.setattr(
            "enhancer.processing.tasks.connection", SimpleNamespace(close=lambda: None)
        )
        _held_by(process, f"{HOST}:{_dead_pid()}")
        # What the worker's main process sends when the pool child was killed.
        task_failure.send(
            sender=process_enhance, exception=TimeLimitExceeded(900), args=(str(process.id),)
        )
        process.refresh_from_db()
        assert process.status == ProcessStatus.FAILED
        assert "took longer than the 900 s limit" in process.error_message

    def test_a_message_that_cannot_be_sent_fails_the_process(self, process, broker_down, events):
        process_enqueue(process_id=process.id)
        process.refresh_from_db()
        assert process.status == ProcessStatus.FAILED
        assert process.error_message == NOT_QUEUED


def test_a_starting_worker_resends_what_dead_workers_left(alice, enqueued):
    queued = make_process(alice.application)
    dead = make_process(alice.application, status=ProcessStatus.PROCESSING)
    _held_by(dead, f"{HOST}:{_dead_pid()}")
    live = make_process(alice.application, status=ProcessStatus.PROCESSING)
    _held_by(live, f"{HOST}:{os.getppid()}")
    make_process(alice.application, status=ProcessStatus.COMPLETED)
    assert process_recover_all() == 2
    sent = [(message.args[0], message.queue) for message in enqueued]
    assert sorted(sent) == sorted([(str(queued.id), "enhance"), (str(dead.id), "enhance")])


@pytest.mark.parametrize(
    ("consume_from", "resent"),
    [({"enhance": 1, "default": 1}, 1), ({"default": 1}, 0), (None, 1)],
)
def test_only_workers_of_the_enhance_queue_resend_at_start(
    alice, monkeypatch, enqueued, consume_from, resent
):
    make_process(alice.application)
    # The handler drops the main process's connections; keep the test's open.
    monkeypatch.setattr("enhancer.processing.tasks.connection", SimpleNamespace(close=lambda: None))
    monkeypatch.setattr("enhancer.processing.tasks.close_old_connections", lambda: None)

    class Queues(dict):
        pass

    queues = Queues(enhance=1, default=1)
    queues.consume_from = consume_from

    class Worker:  # what worker_ready sends: a hashable worker with its app
        app = SimpleNamespace(amqp=SimpleNamespace(queues=queues))

    worker_ready.send(sender=Worker())
    assert len(enqueued) == resent


@pytest.mark.parametrize(("consume_from", "loads"), [({"enhance": 1}, 1), ({"default": 1}, 0)])
def test_children_of_enhance_workers_load_the_models_at_start(monkeypatch, consume_from, loads):
    loaded: list[bool] = []
    monkeypatch.setattr(
        "enhancer.processing.tasks.get_enhancer",
        lambda config: SimpleNamespace(load=lambda: loaded.append(True)),
    )

    class Queues(dict):
        pass

    queues = Queues(enhance=1, default=1)
    queues.consume_from = consume_from
    monkeypatch.setattr(
        "enhancer.processing.tasks.current_app",
        SimpleNamespace(amqp=SimpleNamespace(queues=queues)),
    )
    worker_process_init.send(sender=None)
    assert len(loaded) == loads
