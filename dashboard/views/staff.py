"""The staff summary: what the dashboard's pipeline is doing, on one page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import selectors

QUEUES = ("enhance", "default")


@require_GET
@staff_member_required
def summary(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
    reasons, failed = selectors.failures_since(day_ago)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard summary",
        "counts": selectors.status_counts(),
        "queues": [(name, selectors.queue_depth(name)) for name in QUEUES],
        "reasons": reasons,
        "failed": failed,
        "times": [
            ("Last 24 hours", selectors.processing_times(day_ago)),
            ("Last 7 days", selectors.processing_times(now - timedelta(days=7))),
        ],
        "now": now,
    }
    return render(request, "dashboard/staff_summary.html", context)
