"""Admin for applications and their credentials.

Secrets are shown once, in a message on the page that made them, and are
never stored in clear. Messages are kept in the session (see settings), not
in a cookie, so the secrets do not travel back to the browser a second time.
"""

from __future__ import annotations

import io
import uuid

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from PIL import Image

from enhancer.auth.credentials import IssuedCredential, credential_issue, credential_rotate
from enhancer.models import (
    ApiCredential,
    Application,
    FaceEnhancerProcess,
    ProcessStatus,
    RenderTask,
)
from enhancer.processing.stop import process_delete

# Admin lists at 1280 px: a whole UUID wraps onto several lines and pushes
# status and progress off-screen, so lists show the first 8 characters (the
# whole id is in the title and on the change page) and cap long names.
SHORT_ID = 8


def short_id(value: object) -> str:
    if not value:
        return "—"
    text = str(value)
    return format_html(
        '<code title="{}" style="white-space:nowrap">{}</code>', text, text[:SHORT_ID]
    )


def narrow(text: object, width: str = "12em") -> str:
    return format_html(
        '<span title="{}" style="display:inline-block;max-width:{};overflow:hidden;'
        'text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom">{}</span>',
        text,
        width,
        text,
    )


def _show_secrets(request: HttpRequest, issued: IssuedCredential) -> None:
    rows = format_html_join(
        "", "<li><code>{}</code>: <code>{}</code></li>", issued.to_dict().items()
    )
    messages.warning(
        request,
        format_html(
            "New credentials for {}. Copy them now; they are not shown again:<ul>{}</ul>",
            issued.application.name,
            rows,
        ),
    )


class ApiCredentialInline(admin.TabularInline):
    model = ApiCredential
    fields = ("api_key", "created_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")
    inlines = [ApiCredentialInline]
    actions = ["rotate_credentials"]

    def save_model(
        self, request: HttpRequest, obj: Application, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            _show_secrets(request, credential_issue(application=obj))

    @admin.action(description="Rotate credentials (new secrets, the old ones revoked)")
    def rotate_credentials(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for application in queryset:
            _show_secrets(request, credential_rotate(application=application))


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ("api_key", "application", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("api_key", "application__name", "application__id")
    readonly_fields = (
        "application",
        "api_key",
        "api_secret_hash",
        "jwt_private_key_hash",
        "created_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New credentials come from the application page (create or rotate),
        # where their secrets can be shown once.
        return False


# --- Face enhancing processes ---------------------------------------------------
# Made by the API, never by hand: everything is read-only here. Images are
# served through the admin (staff only), never from a public media URL.

THUMBNAIL_SIDE = 256


class ProcessUserFilter(admin.SimpleListFilter):
    """Filter by userId: the most recent users are offered, any id works in the URL."""

    title = "user"
    parameter_name = "user_id"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        processes = FaceEnhancerProcess.objects.all()
        application = request.GET.get("application__id__exact")
        if application:
            processes = processes.filter(application_id=application)
        recent: list[str] = []
        for user_id in processes.order_by("-created_at").values_list("user_id", flat=True)[:500]:
            if str(user_id) not in recent:
                recent.append(str(user_id))
            if len(recent) == 20:
                break
        return [(user_id, user_id) for user_id in recent]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[FaceEnhancerProcess]
    ) -> QuerySet[FaceEnhancerProcess]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(user_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


class RenderTaskInline(admin.TabularInline):
    model = RenderTask
    fields = (
        "id",
        "render_state",
        "content_type",
        "size",
        "preview_size",
        "width",
        "height",
        "result",
        "preview",
        "completed_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FaceEnhancerProcess)
class FaceEnhancerProcessAdmin(admin.ModelAdmin):
    list_display = (
        "status",
        "progress",
        "process",
        "application_name",
        "user",
        "faces_summary",
        "attempts",
        "created_at",
        "thumbnail",
    )
    list_display_links = ("process",)
    list_filter = ("status", "application", ProcessUserFilter)
    list_select_related = ("application",)
    search_fields = ("=id", "=user_id", "=render_tasks__id", "=idempotency_key")
    search_help_text = "A process id, userId, taskId or Idempotency-Key (the whole value)."
    date_hierarchy = "created_at"
    inlines = [RenderTaskInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "application",
                    "user_id",
                    "status",
                    "progress",
                    "dashboard_job",
                    "images",
                )
            },
        ),
        ("Parameters", {"fields": ("aria_ratio", "max_face_count")}),
        (
            "Outcome",
            {"fields": ("faces_detected", "faces_enhanced", "faces", "error_message")},
        ),
        (
            "Upload",
            {
                "fields": (
                    "upload",
                    "upload_name",
                    "upload_format",
                    "upload_width",
                    "upload_height",
                    "upload_size",
                    "upload_sha256",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "idempotency_key",
                    "attempts",
                    "worker",
                    "created_at",
                    "started_at",
                    "heartbeat_at",
                    "finished_at",
                    "updated_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in FaceEnhancerProcess._meta.fields] + ["images", "dashboard_job"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: FaceEnhancerProcess) -> None:
        process_delete(process=obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[FaceEnhancerProcess]
    ) -> None:
        for process in queryset:
            process_delete(process=process)

    @admin.display(description="process", ordering="id")
    def process(self, process: FaceEnhancerProcess) -> str:
        return short_id(process.pk)

    @admin.display(description="application", ordering="application__name")
    def application_name(self, process: FaceEnhancerProcess) -> str:
        return narrow(process.application)

    @admin.display(description="userId", ordering="user_id")
    def user(self, process: FaceEnhancerProcess) -> str:
        return short_id(process.user_id)

    @admin.display(description="dashboard job")
    def dashboard_job(self, process: FaceEnhancerProcess) -> str:
        """The dashboard's job that started this process, when this server's dashboard did.

        Looked up by name, not imported: the API does not depend on the dashboard.
        """
        try:
            job_model = apps.get_model("dashboard", "Job")
        except LookupError:
            return "—"
        job = job_model.objects.filter(process_id=process.pk).only("pk", "original_name").first()
        if job is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:dashboard_job_change", args=[job.pk]),
            narrow(job.original_name),
        )

    @admin.display(description="faces")
    def faces_summary(self, process: FaceEnhancerProcess) -> str:
        if process.faces_detected is None:
            return "—"
        return f"{process.faces_enhanced} of {process.faces_detected}"

    def _image_url(self, process: FaceEnhancerProcess, kind: str) -> str:
        return reverse("admin:enhancer_faceenhancerprocess_image", args=[process.pk, kind])

    @admin.display(description="result")
    def thumbnail(self, process: FaceEnhancerProcess) -> str:
        if process.status != ProcessStatus.COMPLETED:
            return "—"
        return format_html(
            '<img src="{}" alt="" style="max-height:64px;max-width:96px">',
            self._image_url(process, "preview"),
        )

    @admin.display(description="before and after")
    def images(self, process: FaceEnhancerProcess) -> str:
        before = format_html(
            '<a href="{}"><img src="{}" alt="upload" style="max-height:{}px"></a>',
            self._image_url(process, "upload"),
            self._image_url(process, "upload-thumbnail"),
            THUMBNAIL_SIDE,
        )
        if process.status != ProcessStatus.COMPLETED:
            return before
        return format_html(
            '{} <a href="{}"><img src="{}" alt="result" style="max-height:{}px"></a>',
            before,
            self._image_url(process, "result"),
            self._image_url(process, "preview"),
            THUMBNAIL_SIDE,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.image_view)
        return [
            path(
                "<uuid:process_id>/image/<str:kind>/",
                view,
                name="enhancer_faceenhancerprocess_image",
            ),
            *super().get_urls(),
        ]

    def image_view(
        self, request: HttpRequest, process_id: uuid.UUID, kind: str
    ) -> HttpResponseBase:
        """The upload (or a thumbnail of it), the result or the preview, to staff only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        process = get_object_or_404(FaceEnhancerProcess, pk=process_id)
        task = process.render_tasks.first()
        files = {
            "upload": process.upload,
            "upload-thumbnail": process.upload,
            "result": task.result if task else None,
            "preview": task.preview if task else None,
        }
        stored = files.get(kind)
        if not stored:
            raise Http404("No such image.")
        try:
            if kind == "upload-thumbnail":
                return HttpResponse(_thumbnail(stored), content_type="image/jpeg")
            return FileResponse(stored.open("rb"))
        except (FileNotFoundError, OSError):
            raise Http404("The image is no longer stored.") from None


def _thumbnail(stored: FieldFile) -> bytes:
    """A small JPEG of an upload; JPEGs are decoded at reduced size (draft)."""
    with stored.open("rb") as file, Image.open(file) as image:
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=80)
        return buffer.getvalue()
