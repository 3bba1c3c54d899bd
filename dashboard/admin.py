"""Admin monitoring: jobs with filters, thumbnails and actions; teams; API connections.

Jobs are written by the workers through dashboard.services, so the admin
shows them read-only and acts on them only through the same services (retry,
cancel). Connection secrets are write-only (see ApiConnectionAdminForm).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from dashboard import cancellation, services
from dashboard.forms import ApiConnectionAdminForm
from dashboard.models import ApiConnection, Job, Membership, Team

# The index links the staff summary page (templates/dashboard/admin/index.html).
admin.site.index_template = "dashboard/admin/index.html"
# Branded, so that a member sent to the admin login knows where they are.
admin.site.site_header = "Face Enhancer administration"
admin.site.site_title = "Face Enhancer admin"
admin.site.index_title = "Administration"
# The app list beside every page took a quarter of 1280 px: lists showed their first
# columns only. The index and the breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    # Status and progress first and short ids, so that they are in view at 1280 px.
    list_display = (
        "state",
        "progress",
        "thumbnail",
        "name",
        "team",
        "uploader",
        "process",
        "created_at",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = ("status", "team", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("original_name", "process_id", "uploader__username")
    list_select_related = ("team", "uploader")
    list_per_page = 50
    actions = ["retry_jobs", "cancel_jobs"]
    readonly_fields = (
        "image",
        "id",
        "team",
        "uploader",
        "user_guid",
        "original_name",
        "aria_ratio",
        "max_face_count",
        "status",
        "progress",
        "error_message",
        "faces_detected",
        "faces_enhanced",
        "process_id",
        "task_id",
        "attempts",
        "created_at",
        "submitted_at",
        "completed_at",
        "updated_at",
        "links",
    )
    fieldsets = (
        (None, {"fields": ("image", "links", "original_name", "team", "uploader", "user_guid")}),
        ("Parameters", {"fields": ("aria_ratio", "max_face_count")}),
        (
            "Progress",
            {
                "fields": (
                    "status",
                    "progress",
                    "error_message",
                    "faces_detected",
                    "faces_enhanced",
                    "attempts",
                )
            },
        ),
        ("Upstream", {"fields": ("id", "process_id", "task_id")}),
        ("Times", {"fields": ("created_at", "submitted_at", "completed_at", "updated_at")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from uploads

    @admin.display(description="")
    def thumbnail(self, job: Job) -> str:
        kind = "preview" if job.preview else "original"
        url = reverse("dashboard:job-file", args=[job.pk, kind])
        return format_html(
            '<img src="{}" alt="" width="64" height="48" loading="lazy" '
            'style="object-fit:cover;border-radius:4px;background:#eee">',
            url,
        )

    @admin.display(description="Image")
    def image(self, job: Job) -> str:
        kind = "preview" if job.preview else "original"
        url = reverse("dashboard:job-file", args=[job.pk, kind])
        return format_html('<img src="{}" alt="" style="max-width:320px;max-height:240px">', url)

    @admin.display(description="Status", ordering="status")
    def state(self, job: Job) -> str:
        # The dashboard's words (No face found too), on one line.
        return format_html('<span style="white-space:nowrap">{}</span>', job.status_label)

    @admin.display(description="Image", ordering="original_name")
    def name(self, job: Job) -> str:
        return format_html(
            '<span title="{}" style="display:inline-block;max-width:16em;overflow:hidden;'
            'text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom">{}</span>',
            job.original_name,
            job.original_name,
        )

    @admin.display(description="API process", ordering="process_id")
    def process(self, job: Job) -> str:
        """The job's process in this server's API admin (a remote API's is not there)."""
        if job.process_id is None:
            return "—"
        url = _api_process_url(job)
        if url is None:
            return format_html("<code>{}</code>", str(job.process_id)[:8])
        return format_html(
            '<a href="{}" title="{}"><code style="white-space:nowrap">{}</code></a>',
            url,
            job.process_id,
            str(job.process_id)[:8],
        )

    @admin.display(description="Files")
    def links(self, job: Job) -> str:
        parts = [
            (reverse("dashboard:job", args=[job.pk]), "job page"),
            (reverse("dashboard:job-file", args=[job.pk, "original"]), "original"),
        ]
        if job.result:
            parts.append((reverse("dashboard:job-file", args=[job.pk, "result"]), "result"))
        if job.preview:
            parts.append((reverse("dashboard:job-file", args=[job.pk, "preview"]), "preview"))
        url = _api_process_url(job)
        if url is not None:
            parts.append((url, "API process"))
        return format_html_join(" · ", '<a href="{}">{}</a>', parts)

    @admin.action(description="Retry the selected failed or cancelled jobs")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = sum(services.job_retry(job=job) for job in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} job(s) sent again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} job(s) skipped: only failed or cancelled jobs can be retried.",
                messages.WARNING,
            )

    @admin.action(description="Cancel the selected active jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        # The API is told by the workers: a page of jobs should not wait on it job by job.
        who = request.user.get_username()
        cancelled = sum(
            cancellation.job_cancel(job=job, by=who, tell_api_now=False) is not None
            for job in queryset
        )
        skipped = queryset.count() - cancelled
        self.message_user(request, f"{cancelled} job(s) cancelled.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} job(s) skipped: they had already finished.", messages.WARNING
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "user_guid")
    autocomplete_fields = ("user",)
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "connection", "member_count", "job_count", "created_at")
    search_fields = ("name",)
    list_select_related = ("connection",)
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", distinct=True),
                job_count=Count("jobs", distinct=True),
            )
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="Jobs", ordering="job_count")
    def job_count(self, team: Team) -> int:
        return team.job_count  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(ApiConnection)
class ApiConnectionAdmin(admin.ModelAdmin):
    form = ApiConnectionAdminForm
    list_display = ("name", "url", "application_id", "webhook_registered", "updated_at")
    search_fields = ("name", "application_id")
    readonly_fields = ("notification_channel_id", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "base_url", "application_id")}),
        (
            "Credentials",
            {
                "fields": ("api_key", "api_secret", "jwt_private_key"),
                "description": "Stored encrypted and never shown again. "
                "Type a new value to replace one; leave a field blank to keep it.",
            },
        ),
        ("Webhook", {"fields": ("notification_channel_id", "created_at", "updated_at")}),
    )

    @admin.display(description="Webhook channel", boolean=True)
    def webhook_registered(self, connection: ApiConnection) -> bool:
        return connection.notification_channel_id is not None


def _api_process_url(job: Job) -> str | None:
    """The job's process in the API's admin, when this server runs the API too.

    By URL name, not by import: a dashboard deployed alone talks to its API
    over HTTP only, and then has no such page to link.
    """
    if job.process_id is None:
        return None
    try:
        return reverse("admin:enhancer_faceenhancerprocess_change", args=[job.process_id])
    except NoReverseMatch:
        return None
