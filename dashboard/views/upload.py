"""The upload page: several images at once, each validated by its bytes.

With JavaScript the page sends one request per file (so each gets its own
progress bar) and asks for JSON; without it, a plain multipart form sends
them all and the page answers with a summary. Either way a refused file
leaves nothing behind: it is checked before job_create stores anything.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dashboard import services
from dashboard.decorators import MemberRequest, member_required, wants_json
from dashboard.forms import ACCEPTED_TYPES, UploadForm, image_problem
from dashboard.models import Job


@require_http_methods(["GET", "POST"])
@member_required
def upload(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive(request)
    return _page(request, UploadForm())


def _page(
    request: MemberRequest,
    form: UploadForm,
    *,
    refused: list[tuple[str, str]] | None = None,
    accepted: list[Job] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "refused": refused or [],
        "accepted": accepted or [],
        "accept": ACCEPTED_TYPES,
        "max_bytes": settings.FACE_ENHANCING_MAX_UPLOAD_BYTES,
        "max_megapixels": settings.FACE_ENHANCER_MAX_PIXELS / 1_000_000,
    }
    return render(request, "dashboard/upload.html", context, status=status)


def _receive(request: MemberRequest) -> HttpResponse:
    form = UploadForm(request.POST)
    files = request.FILES.getlist("images")
    as_json = wants_json(request)
    if not form.is_valid() or not files:
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        if not files:
            errors["images"] = ["Choose at least one JPEG, PNG or WebP image."]
        if as_json:
            return _json_refusal(errors)
        return _page(request, form, refused=[("", m) for m in errors.get("images", [])], status=400)

    accepted: list[Job] = []
    refused: list[tuple[str, str]] = []
    batch = _batch(request)
    for image in files:
        problem = image_problem(image)
        if problem:
            refused.append((image.name or "image", problem))
            continue
        accepted.append(
            services.job_create(
                membership=request.membership,
                image=image,
                filename=image.name or "image",
                aria_ratio=form.cleaned_data["aria_ratio"],
                max_face_count=form.cleaned_data["max_face_count"],
                batch=batch,
            )
        )

    if as_json:
        if refused:
            return _json_refusal({"images": [problem for _, problem in refused]})
        job = accepted[0]
        return JsonResponse(
            {
                "ok": True,
                "job": {
                    "id": str(job.pk),
                    "name": job.original_name,
                    "status": job.get_status_display(),
                    "url": reverse("dashboard:job", args=[job.pk]),
                },
            },
            status=201,
        )
    if not refused:
        count = len(accepted)
        messages.success(
            request,
            f"{count} image{'s' if count != 1 else ''} sent for enhancement. "
            "Progress shows here as it happens.",
        )
        return redirect("dashboard:jobs")
    return _page(
        request,
        UploadForm(initial=form.cleaned_data),
        refused=refused,
        accepted=accepted,
        status=200 if accepted else 400,
    )


def _batch(request: MemberRequest) -> uuid.UUID:
    """The upload script sends one request per file, all naming the same batch;
    a plain form sends them all at once and is a batch of its own."""
    try:
        return uuid.UUID(request.POST.get("batch", ""))
    except ValueError:
        return uuid.uuid4()


def _json_refusal(errors: dict[str, list[str]]) -> JsonResponse:
    message = " ".join(m for messages_ in errors.values() for m in messages_)
    return JsonResponse({"ok": False, "message": message, "errors": errors}, status=400)
