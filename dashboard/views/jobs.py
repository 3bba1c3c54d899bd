"""My jobs (the member's own, newest first) and the job page with retry and cancel."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard import cancellation, job_lists, selectors, services
from dashboard.decorators import MemberRequest, member_required
from dashboard.models import Job
from dashboard.views.fragments import render_fragment


def my_jobs_context(request: MemberRequest) -> dict[str, Any]:
    """One page of the member's jobs for the query in the URL (kept by the live poll)."""
    query = job_lists.ListQuery.from_get(request.GET)
    page = job_lists.member_jobs_page(request.membership, query)
    jobs = list(page.object_list)
    batch = job_lists.latest_batch(request.membership, now=timezone.now())
    return {
        "jobs": jobs,
        "pager": job_lists.pager(page, query),
        "query": query,
        "states": job_lists.STATE_CHOICES,
        "batch": batch,
        "failed_count": job_lists.member_failed_count(request.membership),
        "active": selectors.any_active(jobs) or bool(batch and not batch.finished),
    }


@require_GET
@member_required
def my_jobs(request: MemberRequest) -> HttpResponse:
    context = my_jobs_context(request)
    live = render_fragment(request, "dashboard/_job_list.html", context)
    return render(request, "dashboard/my_jobs.html", {**context, "live": live})


def job_context(job: Job) -> dict[str, Any]:
    job_lists.annotate_queue([job])
    return {
        "job": job,
        "can_retry": job.status in (Job.Status.FAILED, Job.Status.CANCELLED),
        "can_cancel": job.is_active,
        "active": job.is_active,
    }


def member_job_or_404(request: MemberRequest, job_id: uuid.UUID) -> Job:
    job = selectors.member_team_job(request.memberships, job_id)
    if job is None:
        # The same answer for "no such job" and "another team's job".
        raise Http404("No such job in your teams.")
    return job


@require_GET
@member_required
def job_detail(request: MemberRequest, job_id: uuid.UUID) -> HttpResponse:
    job = member_job_or_404(request, job_id)
    context = job_context(job)
    live = render_fragment(request, "dashboard/_job_panel.html", context)
    return render(request, "dashboard/job.html", {**context, "live": live})


@require_POST
@member_required
def job_retry(request: MemberRequest, job_id: uuid.UUID) -> HttpResponse:
    job = member_job_or_404(request, job_id)
    if services.job_retry(job=job):
        messages.success(request, f"{job.original_name} is being sent again.")
    else:
        messages.info(request, "Only a failed or cancelled job can be retried.")
    return redirect("dashboard:job", job_id=job.pk)


@require_POST
@member_required
def job_cancel(request: MemberRequest, job_id: uuid.UUID) -> HttpResponse:
    job = member_job_or_404(request, job_id)
    cancelled = cancellation.job_cancel(job=job, by=request.user.get_username())
    if cancelled is not None:
        # The job page's Cancelled box says what became of the API's process.
        messages.success(request, f"{job.original_name} is cancelled.")
    else:
        messages.info(request, "This job had already finished.")
    return redirect("dashboard:job", job_id=job.pk)
