"""Polling endpoints that keep the pages current without a reload.

Each answers small JSON: `version` (a hash of the fragment), `active`
(whether anything is still moving), `interval` (when to ask again, in ms)
and `html`, the rendered fragment, left out when the caller's `v` is still
current. Pages poll fast while something runs and slowly when idle, and
static/js/live.js pauses while the tab is hidden.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.decorators import MemberRequest, member_required
from dashboard.views.fragments import render_fragment
from dashboard.views.jobs import job_context, member_job_or_404, my_jobs_context
from dashboard.views.team import team_context

# Milliseconds between polls. The Team page asks the API, so it goes slower.
FAST, SLOW = 1500, 15000
TEAM_FAST, TEAM_SLOW = 4000, 20000


def live_response(
    request: HttpRequest, template: str, context: dict[str, Any], *, fast: int, slow: int
) -> JsonResponse:
    fragment = render_fragment(request, template, context)
    active = bool(context.get("active"))
    body: dict[str, Any] = {
        "version": fragment.version,
        "active": active,
        "interval": fast if active else slow,
    }
    if request.GET.get("v") != fragment.version:
        body["html"] = fragment.html
    return JsonResponse(body)


@require_GET
@never_cache
@member_required
def my_jobs_live(request: MemberRequest) -> JsonResponse:
    return live_response(
        request, "dashboard/_job_list.html", my_jobs_context(request), fast=FAST, slow=SLOW
    )


@require_GET
@never_cache
@member_required
def job_live(request: MemberRequest, job_id: uuid.UUID) -> JsonResponse:
    job = member_job_or_404(request, job_id)
    return live_response(
        request, "dashboard/_job_panel.html", job_context(job), fast=FAST, slow=SLOW
    )


@require_GET
@never_cache
@member_required
def team_live(request: MemberRequest) -> JsonResponse:
    return live_response(
        request, "dashboard/_team_table.html", team_context(request), fast=TEAM_FAST, slow=TEAM_SLOW
    )
