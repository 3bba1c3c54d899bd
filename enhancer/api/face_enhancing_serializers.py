"""Request and response bodies of the FaceEnhancing endpoints (camelCase, as AdCreative)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.encoding import force_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enhancer.api.uploads import image_header, safe_file_name
from enhancer.engine import EnhanceOptions, ImageRejected, InvalidOption
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState, RenderTask
from enhancer.processing.engine_config import engine_config
from enhancer.processing.selectors import ProcessPage
from enhancer.processing.start import AcceptedUpload

ARIA_RATIO_HELP = (
    "How much area around each face is enhanced, 0 to 1: 0 = the inner face (brows to "
    "chin, cheek to cheek), 1 = the whole aligned head crop with hair. Default 0.5."
)
RENDER_STATE_HELP = "; ".join(f"{value} = {label}" for value, label in RenderState.choices)


def _engine_rule(**option: Any) -> None:
    """Apply the engine's own rule for one option, so API and worker never disagree."""
    try:
        EnhanceOptions(**option).validate(engine_config())
    except InvalidOption as e:
        raise serializers.ValidationError(e.message) from None


class FaceEnhancingStartSerializer(serializers.Serializer):
    """POST /api/v1/Image/FaceEnhancing/AdCreative, multipart/form-data."""

    applicationId = serializers.UUIDField(help_text="The application of the credentials.")
    userId = serializers.UUIDField(help_text="The client's user the image belongs to.")
    ariaRatio = serializers.FloatField(
        required=False, default=0.5, min_value=0.0, max_value=1.0, help_text=ARIA_RATIO_HELP
    )
    maxFaceCount = serializers.IntegerField(required=False, default=10, min_value=1)
    uploadedImage = serializers.FileField(
        allow_empty_file=False,
        use_url=False,
        help_text="The image: JPEG, PNG or WebP, recognised by its content.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cap = settings.FACE_ENHANCER_MAX_FACE_COUNT
        limit_mb = settings.FACE_ENHANCING_MAX_UPLOAD_BYTES / 1024 / 1024
        # Built here, not at import, so the documented bounds follow the settings.
        self.fields["maxFaceCount"] = serializers.IntegerField(
            required=False,
            default=10,
            min_value=1,
            max_value=cap,
            help_text=f"At most this many faces are enhanced, the largest first: 1 to {cap}.",
        )
        self.fields["uploadedImage"].help_text = (
            f"The image: JPEG, PNG or WebP, recognised by its content; at most "
            f"{limit_mb:g} MB and {settings.FACE_ENHANCER_MAX_PIXELS / 1e6:g} megapixels."
        )

    def validate_ariaRatio(self, value: float) -> float:
        _engine_rule(aria_ratio=value)
        return value

    def validate_maxFaceCount(self, value: int) -> int:
        _engine_rule(max_face_count=value)
        return value

    def validate_uploadedImage(self, file: UploadedFile) -> AcceptedUpload:
        file.seek(0)
        data = file.read()
        try:
            # The header only: the worker decodes the pixels (enhancer/api/uploads.py).
            header = image_header(data, max_pixels=settings.FACE_ENHANCER_MAX_PIXELS)
        except ImageRejected as e:
            raise serializers.ValidationError(e.message) from None
        return AcceptedUpload(
            data=data,
            name=safe_file_name(file.name),
            format=header.format,
            width=header.width,
            height=header.height,
        )


# The largest page number: any larger would make an offset past what the
# database counts in (a bigint), and no list of processes is that long.
MAX_PAGE = 2_147_483_647


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=MAX_PAGE,
        help_text=f"1-based page number, at most {MAX_PAGE}. Default 1.",
    )
    pageSize = serializers.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pageSize"] = serializers.IntegerField(
            required=False,
            default=settings.FACE_ENHANCING_PAGE_SIZE,
            min_value=1,
            max_value=settings.FACE_ENHANCING_MAX_PAGE_SIZE,
            help_text=(
                f"Processes per page, 1 to {settings.FACE_ENHANCING_MAX_PAGE_SIZE}. "
                f"Default {settings.FACE_ENHANCING_PAGE_SIZE}."
            ),
        )


class CheckUserProgressQuery(PageQuery):
    userId = serializers.UUIDField(help_text="The user whose processes to list.")
    imageFaceEnhancerProcessId = serializers.UUIDField(
        required=False, help_text="Only this process of the user."
    )


class CheckApplicationAllProgressesQuery(PageQuery):
    applicationId = serializers.UUIDField(help_text="The application of the credentials.")


class DownloadQuery(serializers.Serializer):
    applicationId = serializers.UUIDField(help_text="The application of the credentials.")
    taskId = serializers.UUIDField(help_text="The render task (`taskId` of the process).")
    imageFaceEnhancerProcessId = serializers.UUIDField(help_text="The process of the task.")
    lowResolution = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: the preview (JPEG, longest side at most 512 px); false: the result.",
    )


class EnhanceParametersSerializer(serializers.Serializer):
    ariaRatio = serializers.FloatField(source="aria_ratio")
    maxFaceCount = serializers.IntegerField(source="max_face_count")


class UploadedImageInfoSerializer(serializers.Serializer):
    fileName = serializers.CharField(source="upload_name")
    format = serializers.CharField(source="upload_format", help_text="JPEG, PNG or WEBP")
    width = serializers.IntegerField(source="upload_width")
    height = serializers.IntegerField(source="upload_height")
    size = serializers.IntegerField(source="upload_size", help_text="Bytes.")


class FaceReportSerializer(serializers.Serializer):
    box = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=4,
        max_length=4,
        help_text="x0, y0, x1, y1 in pixels of the image.",
    )
    score = serializers.FloatField(help_text="Detection confidence, 0 to 1.")
    enhanced = serializers.BooleanField(help_text="false when beyond maxFaceCount.")


class RenderTaskSerializer(serializers.Serializer):
    taskId = serializers.UUIDField(source="id")
    renderState = serializers.ChoiceField(
        source="render_state", choices=RenderState.values, help_text=RENDER_STATE_HELP
    )
    renderStateName = serializers.CharField(source="get_render_state_display")
    contentType = serializers.SerializerMethodField(help_text="Of the result, once completed.")
    size = serializers.IntegerField(allow_null=True, help_text="Result bytes.")
    previewSize = serializers.IntegerField(source="preview_size", allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contentType(self, task: RenderTask) -> str | None:
        return task.content_type or None


class ImageFaceEnhancerProcessSerializer(serializers.Serializer):
    imageFaceEnhancerProcessId = serializers.UUIDField(source="id")
    taskId = serializers.SerializerMethodField(help_text="The process's render task.")
    applicationId = serializers.UUIDField(source="application_id")
    userId = serializers.UUIDField(source="user_id")
    status = serializers.ChoiceField(choices=ProcessStatus.values)
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="0 to 100.")
    parameters = EnhanceParametersSerializer(source="*")
    facesDetected = serializers.IntegerField(source="faces_detected", allow_null=True)
    facesEnhanced = serializers.IntegerField(source="faces_enhanced", allow_null=True)
    faces = FaceReportSerializer(many=True)
    errorMessage = serializers.SerializerMethodField(help_text="Why it failed, for the user.")
    uploadedImage = UploadedImageInfoSerializer(source="*")
    renderTasks = RenderTaskSerializer(source="render_tasks.all", many=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    completedAt = serializers.DateTimeField(
        source="finished_at",
        allow_null=True,
        help_text="When it became Completed, Failed or Cancelled.",
    )

    @extend_schema_field(OpenApiTypes.UUID)
    def get_taskId(self, process: FaceEnhancerProcess) -> str | None:
        tasks = process.render_tasks.all()  # prefetched by the selectors
        return str(tasks[0].id) if tasks else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_errorMessage(self, process: FaceEnhancerProcess) -> str | None:
        return process.error_message or None

    def to_representation(self, process: FaceEnhancerProcess) -> dict[str, Any]:
        # The fields above document the body (OpenAPI) and define it; rendering
        # them one by one was the largest part of a CheckUserProgress (see
        # docs/performance.md), so the body is built directly.
        # tests/api/test_process_body.py holds the two equal.
        return process_body(process)


def _datetime(value: datetime | None, zone: tzinfo) -> str | None:
    """DRF's DateTimeField output (ISO 8601, "Z" for UTC) without its per-call lookups:
    seven per process were a third of a page's body."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_RENDER_STATE_NAMES: dict[int, str] = dict(RenderState.choices)


def _render_state_name(value: int) -> str | int:
    """RenderTask.get_render_state_display() without its per-call dict of the choices
    (made hashable each time): a fifth of a page's body under cProfile."""
    return force_str(_RENDER_STATE_NAMES.get(value, value), strings_only=True)


def process_body(
    process: FaceEnhancerProcess,
    tasks: list[RenderTask] | None = None,
    zone: tzinfo | None = None,
) -> dict[str, Any]:
    """What ImageFaceEnhancerProcessSerializer's fields render, built in one go.

    `tasks`: the process's render tasks when read apart (selectors.progress_page).
    `zone`: the current time zone, when the caller looked it up for a whole page.
    """
    if tasks is None:
        tasks = list(process.render_tasks.all())  # prefetched by the selectors
    if zone is None:
        zone = timezone.get_current_timezone()  # what DRF's DateTimeField converts to
    return {
        "imageFaceEnhancerProcessId": str(process.id),
        "taskId": str(tasks[0].id) if tasks else None,
        "applicationId": str(process.application_id),
        "userId": str(process.user_id),
        "status": process.status,
        "progress": process.progress,
        "parameters": {
            "ariaRatio": float(process.aria_ratio),
            "maxFaceCount": process.max_face_count,
        },
        "facesDetected": process.faces_detected,
        "facesEnhanced": process.faces_enhanced,
        "faces": [
            {
                "box": [int(v) for v in face["box"]],
                "score": float(face["score"]),
                "enhanced": bool(face["enhanced"]),
            }
            for face in process.faces
        ],
        "errorMessage": process.error_message or None,
        "uploadedImage": {
            "fileName": process.upload_name,
            "format": process.upload_format,
            "width": process.upload_width,
            "height": process.upload_height,
            "size": process.upload_size,
        },
        "renderTasks": [
            {
                "taskId": str(task.id),
                "renderState": task.render_state,
                "renderStateName": _render_state_name(task.render_state),
                "contentType": task.content_type or None,
                "size": task.size,
                "previewSize": task.preview_size,
                "width": task.width,
                "height": task.height,
                "createdAt": _datetime(task.created_at, zone),
                "updatedAt": _datetime(task.updated_at, zone),
                "completedAt": _datetime(task.completed_at, zone),
            }
            for task in tasks
        ],
        "createdAt": _datetime(process.created_at, zone),
        "updatedAt": _datetime(process.updated_at, zone),
        "startedAt": _datetime(process.started_at, zone),
        "completedAt": _datetime(process.finished_at, zone),
    }


class ImageFaceEnhancerProcessPageSerializer(serializers.Serializer):
    items = ImageFaceEnhancerProcessSerializer(many=True, help_text="Newest first.")
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField(source="page_size")
    totalCount = serializers.IntegerField(source="total_count")
    totalPages = serializers.IntegerField(source="total_pages")
    hasPreviousPage = serializers.BooleanField(source="has_previous_page")
    hasNextPage = serializers.BooleanField(source="has_next_page")


def page_body(page: ProcessPage) -> dict[str, Any]:
    """What ImageFaceEnhancerProcessPageSerializer renders, built in one go (as process_body)."""
    zone = timezone.get_current_timezone()
    return {
        "items": [process_body(process, page.tasks_of(process), zone) for process in page.items],
        "page": page.page,
        "pageSize": page.page_size,
        "totalCount": page.total_count,
        "totalPages": page.total_pages,
        "hasPreviousPage": page.has_previous_page,
        "hasNextPage": page.has_next_page,
    }
