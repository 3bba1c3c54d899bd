"""Retry failed jobs from My jobs: the selected ones, or every failed one.

The job page has its own Retry (dashboard.views.jobs); this is the same
service for many jobs at once, so a member never needs the admin for it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard import job_lists, services
from dashboard.decorators import MemberRequest, member_required


@require_POST
@member_required
def retry_failed(request: MemberRequest) -> HttpResponse:
    ids = None if request.POST.get("all") == "1" else request.POST.getlist("jobs")
    jobs = job_lists.member_failed_jobs(request.membership, ids)
    retried = sum(services.job_retry(job=job) for job in jobs)
    if retried:
        messages.success(
            request, f"{retried} failed image{'s' if retried != 1 else ''} sent again."
        )
    elif ids is not None:
        messages.error(request, "Select at least one failed image to retry.")
    else:
        messages.info(request, "No failed image to retry.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect(reverse("dashboard:jobs"))
