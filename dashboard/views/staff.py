"""The staff summary: what the dashboard's pipeline is doing, on one page.

It updates by itself like the member pages (live.js polls summary_live). A
member who follows a link here gets a dashboard page saying it is for staff,
not the admin's login.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import queue_depth
from dashboard import selectors
from dashboard.decorators import staff_required
from dashboard.models import Job
from dashboard.views.fragments import render_fragment
from dashboard.views.live import live_response

QUEUES = ("enhance", "default")
# Milliseconds between polls: each asks the broker for queue depths, so not too often.
STAFF_FAST, STAFF_SLOW = 5000, 20000


def summary_context() -> dict[str, Any]:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    reasons, failed = selectors.failures_since(day_ago)
    counts = selectors.status_counts()
    return {
        "counts": counts,
        "queues": [(name, queue_depth(name)) for name in QUEUES],
        "reasons": reasons,
        "failed": failed,
        "times": [
            ("Last 24 hours", selectors.processing_times(day_ago)),
            ("Last 7 days", selectors.processing_times(now - timedelta(days=7))),
        ],
        "now": now,
        "active": any(c.count for c in counts if c.status in Job.ACTIVE),
    }


@require_GET
@staff_required
def summary(request: HttpRequest) -> HttpResponse:
    context = summary_context()
    live = render_fragment(request, "dashboard/_staff_summary.html", context)
    return render(
        request,
        "dashboard/staff_summary.html",
        {**admin.site.each_context(request), "title": "Dashboard summary", "live": live},
    )


@require_GET
@never_cache
@staff_required
def summary_live(request: HttpRequest) -> JsonResponse:
    return live_response(
        request,
        "dashboard/_staff_summary.html",
        summary_context(),
        fast=STAFF_FAST,
        slow=STAFF_SLOW,
    )
