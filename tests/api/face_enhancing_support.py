"""Images, processes and waits shared by the FaceEnhancing tests.

The fixtures these tests use (media, shared_media, channel_optional) are in
tests/api/conftest.py and tests/conftest.py.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from skimage import data

from enhancer.models import (
    Application,
    FaceEnhancerProcess,
    ProcessStatus,
    RenderState,
    RenderTask,
)
from tests.conftest import wait_until

BASE = "/api/v1/Image/FaceEnhancing"
START_URL = f"{BASE}/AdCreative"
USER_PROGRESS_URL = f"{BASE}/CheckUserProgress"
APPLICATION_PROGRESS_URL = f"{BASE}/CheckApplicationAllProgresses"
DOWNLOAD_URL = f"{BASE}/Download"


@cache
def _astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())  # 512x512, one face


def image_bytes(side: int = 128, fmt: str = "JPEG") -> bytes:
    """The astronaut portrait (one face) scaled to side x side, encoded as `fmt`."""
    image = _astronaut() if side == 512 else _astronaut().resize((side, side))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def uploaded(
    content: bytes | None = None, name: str = "portrait.jpg", content_type: str = "image/jpeg"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type)


def start_form(application: Application, **fields: object) -> dict[str, object]:
    """A valid multipart form for the start endpoint; fields override or (None) drop."""
    form: dict[str, object] = {
        "applicationId": str(application.id),
        "userId": str(uuid.UUID(int=1)),
        "uploadedImage": uploaded(),
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def make_process(
    application: Application,
    *,
    user_id: uuid.UUID | None = None,
    status: str = ProcessStatus.QUEUED,
    created_at: datetime | None = None,
    error_message: str = "",
    upload_name: str = "portrait.jpg",
) -> FaceEnhancerProcess:
    """A process as the start endpoint stores it, moved to `status` without the engine.

    A Completed one gets a result (a PNG of 96x64) and a preview (a JPEG of 48x32).
    """
    process = FaceEnhancerProcess(
        application=application,
        user_id=user_id or uuid.UUID(int=1),
        status=status,
        progress=100 if status == ProcessStatus.COMPLETED else 0,
        upload_name=upload_name,
        upload_format="JPEG",
        upload_width=96,
        upload_height=64,
        upload_size=3,
        upload_sha256="0" * 64,
        error_message=error_message,
        created_at=created_at or timezone.now(),
    )
    folder = f"face-enhancing/{application.id}/{process.id}"
    process.upload.save(f"{folder}/upload.jpg", ContentFile(b"jpg"), save=False)
    process.save()
    task = RenderTask(process=process)
    if status == ProcessStatus.COMPLETED:
        result = _encoded((96, 64), "PNG")
        preview = _encoded((48, 32), "JPEG")
        task.result.save(f"{folder}/{task.id}-result-1.png", ContentFile(result), save=False)
        task.preview.save(f"{folder}/{task.id}-preview-1.jpg", ContentFile(preview), save=False)
        task.render_state = RenderState.COMPLETED
        task.content_type = "image/png"
        task.size, task.preview_size = len(result), len(preview)
        task.width, task.height = 96, 64
        task.completed_at = timezone.now()
        process.faces_detected = process.faces_enhanced = 1
        process.faces = [{"box": [10, 10, 40, 50], "score": 0.9, "enhanced": True}]
        process.finished_at = timezone.now()
        process.save()
    elif status == ProcessStatus.FAILED:
        task.render_state = RenderState.FAILED
        process.finished_at = timezone.now()
        process.save()
    task.save()
    return process


def _encoded(size: tuple[int, int], fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 80)).save(buffer, fmt)
    return buffer.getvalue()


def wait_for_status(
    process_id: uuid.UUID | str, statuses: set[str], timeout: float = 60
) -> FaceEnhancerProcess:
    """The process, once its status is one of `statuses`."""

    def settled() -> FaceEnhancerProcess | None:
        process = FaceEnhancerProcess.objects.get(pk=process_id)
        return process if process.status in statuses else None

    return wait_until(
        settled, timeout=timeout, what=f"process {process_id} to be {sorted(statuses)}", every=0.05
    )


def stored_files(application: Application) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "face-enhancing" / str(application.id)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def media_files() -> list[Path]:
    """Every file in media storage."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def minutes_ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)
