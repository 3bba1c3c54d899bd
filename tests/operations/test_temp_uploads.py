"""Temporary upload files: in a folder of their own, and deleted when abandoned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile

from config.celery import app as celery_app
from operations.tasks import temp_uploads_purge_task
from operations.temp_uploads import temp_uploads_purge

ROOT = Path(__file__).resolve().parents[2]

# A process that receives an upload the way Django does (streamed to a
# TemporaryUploadedFile) and is killed before its request ends.
KILLED_MID_UPLOAD = """
import os, signal, django
django.setup()
from django.core.files.uploadedfile import TemporaryUploadedFile
upload = TemporaryUploadedFile("portrait.jpg", "image/jpeg", 0, None)
upload.write(b"\\xff\\xd8" + b"x" * 4_000_000)
upload.flush()
print(upload.temporary_file_path(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_mid_upload(var_dir: Path, script: str) -> Path:
    """Run `script` in a process on its own VAR_DIR; the file its death left behind."""
    child = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    return Path(child.stdout.strip())


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_uploads_stream_to_their_own_folder_under_var():
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    assert folder.is_dir()
    assert folder.is_relative_to(settings.VAR_DIR)

    upload = TemporaryUploadedFile("portrait.jpg", "image/jpeg", 0, None)
    try:
        assert Path(upload.temporary_file_path()).parent == folder
    finally:
        upload.close()


def test_the_file_of_a_worker_killed_mid_upload_is_deleted_once_old(tmp_path, settings):
    orphan = _killed_mid_upload(tmp_path / "var", KILLED_MID_UPLOAD)
    assert orphan.parent == tmp_path / "var" / "tmp" / "uploads"
    assert orphan.stat().st_size > 4_000_000  # left behind: nothing removed it
    settings.FILE_UPLOAD_TEMP_DIR = str(orphan.parent)

    # Young, it could be an upload still arriving: kept.
    assert temp_uploads_purge() == 0
    assert orphan.exists()

    _age(orphan, settings.FILE_UPLOAD_TEMP_MAX_AGE + 60)
    assert temp_uploads_purge() == 1
    assert list(orphan.parent.iterdir()) == []


def test_only_old_files_of_the_folder_go(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    old = tmp_path / "tmpold.upload.jpg"
    fresh = tmp_path / "tmpfresh.upload.jpg"
    folder = tmp_path / "a-folder"
    for path in (old, fresh):
        path.write_bytes(b"image")
    folder.mkdir()
    _age(old, 31 * 60)
    _age(folder, 31 * 60)

    assert temp_uploads_purge() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder", "tmpfresh.upload.jpg"]


def test_a_missing_folder_is_nothing_to_purge(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "gone")

    assert temp_uploads_purge() == 0


def test_the_purge_is_a_periodic_task_on_the_default_queue(tmp_path, settings):
    entry = celery_app.conf.beat_schedule["operations-temp-uploads"]
    assert entry["task"] == "operations.temp_uploads_purge"
    assert entry["schedule"] <= settings.FILE_UPLOAD_TEMP_MAX_AGE
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "default"

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    abandoned = tmp_path / "tmpabandoned.upload.png"
    abandoned.write_bytes(b"image")
    _age(abandoned, settings.FILE_UPLOAD_TEMP_MAX_AGE + 1)

    assert temp_uploads_purge_task.name == entry["task"]
    assert temp_uploads_purge_task.apply().get() == 1
    assert not abandoned.exists()


def test_the_web_server_purges_at_start(tmp_path):
    folder = tmp_path / "var" / "tmp" / "uploads"
    folder.mkdir(parents=True)
    abandoned = folder / "tmpabandoned.upload.jpg"
    abandoned.write_bytes(b"image")
    _age(abandoned, 31 * 60)

    subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
        check=True,
        timeout=60,
    )

    assert not abandoned.exists()


KILLED_MID_OWNED_UPLOAD = KILLED_MID_UPLOAD.replace(
    "from django.core.files.uploadedfile import TemporaryUploadedFile",
    "from operations.temp_uploads import OwnedTemporaryUploadedFile as TemporaryUploadedFile",
)


def test_request_uploads_are_received_by_the_owner_naming_handler(settings):
    from django.core.files.uploadhandler import load_handler

    handlers = [load_handler(path) for path in settings.FILE_UPLOAD_HANDLERS]
    assert [type(h).__name__ for h in handlers] == [
        "MemoryFileUploadHandler",
        "OwnedTemporaryFileUploadHandler",
    ]
    handler = handlers[1]
    handler.new_file("images", "portrait.jpg", "image/jpeg", 5_000_000)
    try:
        name = Path(handler.file.temporary_file_path()).name
        assert name.startswith(f"{socket.gethostname()}-{os.getpid()}-")
        assert name.endswith(".upload.jpg")
    finally:
        handler.upload_interrupted()
    assert not Path(settings.FILE_UPLOAD_TEMP_DIR, name).exists()


def test_a_starting_web_worker_deletes_at_once_the_file_of_a_dead_one(tmp_path, settings):
    orphan = _killed_mid_upload(tmp_path / "var", KILLED_MID_OWNED_UPLOAD)
    folder = orphan.parent
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    # Young files of a live process here, and of any process on another host: kept.
    alive = folder / f"{socket.gethostname()}-{os.getpid()}-abc.upload.jpg"
    elsewhere = folder / "another-host-1-abc.upload.jpg"
    for path in (alive, elsewhere):
        path.write_bytes(b"arriving")

    assert temp_uploads_purge() == 0  # the periodic purge judges by age only
    assert temp_uploads_purge(dead_owners=True) == 1

    assert sorted(folder.iterdir()) == sorted([alive, elsewhere])
