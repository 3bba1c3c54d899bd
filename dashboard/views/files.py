"""The files of a job, served through views: only to members of the job's team.

Media files are never exposed under a public URL. Inline by default (the job
page's images), as an attachment with a file name for `?download=1`. A ZIP
of selected results is built in a temporary file and streamed from it.
"""

from __future__ import annotations

import tempfile
import uuid
import zipfile

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard import selectors
from dashboard.decorators import MemberRequest, member_required
from dashboard.models import Job

KINDS = ("original", "result", "preview")
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def _sniff(field: FieldFile) -> tuple[str, str]:
    """(content type, extension) of a stored image, from its first bytes."""
    with field.open("rb") as f:
        head = f.read(16)
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return "application/octet-stream", ""


def download_name(job: Job, kind: str, extension: str) -> str:
    stem = job.original_name.rsplit(".", 1)[0] or "image"
    suffix = {"original": "", "result": "-enhanced", "preview": "-enhanced-low-res"}[kind]
    return f"{stem}{suffix}{extension}"


@require_GET
def job_file(request: HttpRequest, job_id: uuid.UUID, kind: str) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    job = selectors.job_visible_to(request.user, job_id)
    if job is None or kind not in KINDS:
        raise Http404("No such file.")
    field: FieldFile = getattr(job, kind)
    if not field:
        raise Http404("This job has no such file yet.")
    try:
        content_type, extension = _sniff(field)
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        as_attachment=request.GET.get("download") == "1",
        filename=download_name(job, kind, extension),
        content_type=content_type,
    )
    # Private: a shared cache must never hand a team's image to someone else.
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@member_required
def jobs_zip(request: MemberRequest) -> HttpResponseBase:
    """The selected completed results of the member's team, in one ZIP."""
    jobs = selectors.completed_team_jobs(request.membership.team, request.POST.getlist("jobs"))
    if not jobs:
        messages.error(request, "Select at least one finished image to download.")
        return redirect("dashboard:jobs")
    archive = tempfile.TemporaryFile()
    used: set[str] = set()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for job in jobs:
            try:
                _, extension = _sniff(job.result)
                name = _unique(download_name(job, "result", extension), used)
                # Results are JPEG/PNG/WebP: already compressed, so stored as they are.
                with job.result.open("rb") as source, bundle.open(name, "w") as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
            except FileNotFoundError:
                continue
    archive.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"enhanced-{stamp}.zip",
        content_type="application/zip",
    )


def _unique(name: str, used: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem} ({n}){dot}{extension}"
    used.add(candidate)
    return candidate
