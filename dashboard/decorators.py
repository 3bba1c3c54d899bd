"""Decorators that attach what a dashboard view needs to the request.

`@member_required` is the dashboard's front door: it sends strangers to the
login page and people without a team to a page that says what to do, and
hands the view the membership it acts as (request.membership).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from dashboard import selectors
from dashboard.models import Membership

# The session key of the team a member of several teams is working in.
TEAM_SESSION_KEY = "dashboard_team_id"


class MemberRequest(HttpRequest):
    """A request that went through @member_required."""

    membership: Membership
    memberships: list[Membership]


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def member_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        memberships = selectors.memberships_of(request.user)
        if not memberships:
            return render(request, "dashboard/no_team.html", status=403)
        chosen = request.session.get(TEAM_SESSION_KEY)
        member_request = cast(MemberRequest, request)
        member_request.memberships = memberships
        member_request.membership = next(
            (m for m in memberships if m.team_id == chosen), memberships[0]
        )
        return view(member_request, *args, **kwargs)

    return cast(View, wrapper)


def staff_required(view: View) -> View:
    """Staff pages: strangers log in on the dashboard's page, members get a
    dashboard page that says the page is for staff (not the admin's login)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if not (request.user.is_active and request.user.is_staff):
            return render(request, "dashboard/staff_only.html", status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def wants_json(request: HttpRequest) -> bool:
    """The upload script and the pollers ask for JSON; a plain form post does not."""
    return "application/json" in request.headers.get("Accept", "")
