"""The Team page: every process of the team's application, joined with our jobs.

Processes come from the API (CheckApplicationAllProgresses), so the page also
shows what other clients of the same application started. When the API cannot
be asked the page still renders, with the reason and the team's own jobs.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dashboard import job_lists, selectors
from dashboard.decorators import TEAM_SESSION_KEY, MemberRequest, member_required
from dashboard.views.fragments import render_fragment


def team_context(request: MemberRequest) -> dict[str, Any]:
    """The team's processes for the query in the URL (name, state, member), a page of them."""
    team = request.membership.team
    overview = selectors.team_overview(team)
    query = job_lists.ListQuery.from_get(request.GET)
    page = job_lists.page_of(job_lists.filter_team_rows(overview.processes, query), query)
    rows = list(page.object_list)
    job_lists.annotate_queue([row.job for row in rows if row.job is not None])
    return {
        "team": team,
        "overview": overview,
        "rows": rows,
        "pager": job_lists.pager(page, query),
        "query": query,
        "states": job_lists.STATE_CHOICES,
        "active": overview.active,
        "members": job_lists.team_member_names(team),
    }


@require_GET
@member_required
def team(request: MemberRequest) -> HttpResponse:
    context = team_context(request)
    live = render_fragment(request, "dashboard/_team_table.html", context)
    return render(request, "dashboard/team.html", {**context, "live": live})


@require_POST
@member_required
def team_switch(request: MemberRequest) -> HttpResponse:
    """Work in another of one's teams: remembered in the session."""
    wanted = request.POST.get("team")
    for membership in request.memberships:
        if str(membership.team_id) == wanted:
            request.session[TEAM_SESSION_KEY] = membership.team_id
            break
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("dashboard:jobs")
