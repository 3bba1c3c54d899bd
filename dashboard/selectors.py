"""Reads of the dashboard: a member's jobs, the team's processes, staff figures.

Views read through here and write through dashboard.services. The Team page
is the one read that leaves the database: it asks the Face Enhancer API for
every process of the team's application (CheckApplicationAllProgresses), with
short timeouts, because a person is waiting for the page.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.api_answers import ProcessSnapshot, processes_in, snapshot
from dashboard.api_clients import page_client
from dashboard.client import ApiError, ApiUnreachable
from dashboard.models import ApiConnection, EarlierProcess, Job, Membership, Team

# --- Members and their jobs ----------------------------------------------------------


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user_id=user.pk)
        .select_related("team__connection", "user")
        # A stable default team for people in several: the first by name.
        .order_by("team__name")
    )


def member_jobs(membership: Membership, *, limit: int = 100) -> list[Job]:
    """The member's own jobs in the team, newest first (what CheckUserProgress covers)."""
    return list(
        Job.objects.filter(team=membership.team, user_guid=membership.user_guid)
        .select_related("uploader")
        .order_by("-created_at")[:limit]
    )


def job_visible_to(user: AbstractBaseUser | AnonymousUser, job_id: uuid.UUID) -> Job | None:
    """A job a person may see: one of their teams', or any for staff who may view jobs.

    Staff see files through the admin's thumbnails without joining every team.
    """
    if not user.is_authenticated:
        return None
    jobs = Job.objects.select_related("team", "uploader")
    # Django's User has permissions (PermissionsMixin); AbstractBaseUser alone has none.
    if not (isinstance(user, PermissionsMixin) and user.has_perm("dashboard.view_job")):
        jobs = jobs.filter(team__memberships__user_id=user.pk)
    return jobs.filter(pk=job_id).first()


def member_team_job(memberships: Iterable[Membership], job_id: uuid.UUID) -> Job | None:
    """A job of one of the member's teams (any member of a team may follow its jobs)."""
    teams = [m.team_id for m in memberships]
    return Job.objects.select_related("team", "uploader").filter(pk=job_id, team__in=teams).first()


def completed_team_jobs(team: Team, ids: Iterable[str]) -> list[Job]:
    """The completed jobs among `ids` that belong to the team; others are ignored."""
    valid: list[uuid.UUID] = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return list(
        Job.objects.filter(team=team, pk__in=valid, status=Job.Status.COMPLETED)
        .exclude(result="")
        .order_by("created_at")
    )


def any_active(jobs: Iterable[Job]) -> bool:
    return any(job.is_active for job in jobs)


# --- The team's processes, from the API -------------------------------------------------

# Every member's Team page polls; one API call per team per few seconds is enough.
TEAM_PROCESSES_CACHE_SECONDS = 3
TEAM_PROCESSES_PAGE_SIZE = 50


@dataclass(frozen=True)
class TeamProcess:
    """One row of the Team page: an upstream process, joined with our job if we have one."""

    process_id: uuid.UUID | None
    progress: int
    state: str  # a Job.Status value: what the row looks like
    label: str  # its words, as on the member's own pages
    error_message: str
    faces_detected: int | None
    faces_enhanced: int | None
    created_at: datetime | None
    job: Job | None
    member: str  # who started it, as far as we know
    name: str = ""  # the uploaded file's name, when the API tells it

    @property
    def badge(self) -> str:
        return "no-face" if self.label == Job.NO_FACE else self.state

    @property
    def shows_progress(self) -> bool:
        return self.state in Job.SHOWS_PROGRESS

    @property
    def external(self) -> bool:
        """Started by another client of the same application, not through this team."""
        return self.job is None


@dataclass(frozen=True)
class TeamOverview:
    processes: list[TeamProcess]
    error: str = ""  # set when the API could not be asked: the page shows why
    total: int | None = None  # processes the application has in all, when the API says
    shown: int = 0  # of which the API sent this many (the newest)

    @property
    def active(self) -> bool:
        return any(p.state in Job.ACTIVE for p in self.processes)


def _application_processes(
    connection: ApiConnection,
) -> tuple[list[dict[str, Any]], str, int | None]:
    """(process objects, error message, total) for the application, cached a few seconds."""
    key = f"dashboard:team-processes:{connection.pk}:{connection.updated_at.timestamp()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        body = page_client(connection).check_application_all_progresses(
            pageSize=TEAM_PROCESSES_PAGE_SIZE
        )
        total = body.get("totalCount") if isinstance(body, dict) else None
        answer: tuple[list[dict[str, Any]], str, int | None] = (
            processes_in(body),
            "",
            total if isinstance(total, int) else None,
        )
    except ApiUnreachable:
        answer = ([], "unreachable", None)
    except ApiError as e:
        # The API answers 404 when the application has no process yet.
        answer = ([], "", 0) if e.status == 404 else ([], e.message, None)
    except ValueError:  # a 200 whose body is not JSON
        answer = ([], "The Face Enhancer API answered something that is not JSON.", None)
    cache.set(key, answer, TEAM_PROCESSES_CACHE_SECONDS)
    return answer


def team_overview(team: Team) -> TeamOverview:
    items, error, total = _application_processes(team.connection)
    ids = []
    snapshots = []
    for item in items:
        try:
            found = snapshot(item)
        except ValueError:
            continue  # an item without a process id cannot be shown or linked
        snapshots.append((found, item))
        ids.append(found.process_id)
    jobs = {
        job.process_id: job
        for job in Job.objects.filter(team=team, process_id__in=ids).select_related("uploader")
    }
    # A retried job's earlier processes (cancelled, failed) are its own too, not another client's.
    for earlier in EarlierProcess.objects.filter(job__team=team, process_id__in=ids).select_related(
        "job__uploader"
    ):
        jobs.setdefault(earlier.process_id, earlier.job)
    members = {
        str(m.user_guid): m.user.get_username()
        for m in Membership.objects.filter(team=team).select_related("user")
    }
    rows: list[TeamProcess] = [
        _job_row(job)
        for job in Job.objects.filter(team=team, process_id=None, status__in=Job.ACTIVE)
        .select_related("uploader")
        .order_by("-created_at")
    ]
    for found, item in snapshots:
        job = jobs.get(found.process_id)
        state = process_status(found)
        user_id = str(item.get("userId") or "")
        rows.append(
            TeamProcess(
                process_id=found.process_id,
                progress=100 if found.completed else found.progress,
                state=state,
                label=Job.label_for(state, found.faces_detected),
                error_message=found.error_message,
                faces_detected=found.faces_detected,
                faces_enhanced=found.faces_enhanced,
                created_at=_datetime(item.get("createdAt") or item.get("creationDate")),
                job=job,
                member=_member_name(job, members.get(user_id, "")),
                name=_upload_name(item),
            )
        )
    return TeamOverview(processes=rows, error=error, total=total, shown=len(snapshots))


def process_status(found: ProcessSnapshot) -> Job.Status:
    """An API process's state in the dashboard's words (the API says Queued,
    Processing, Completed, Failed; AdCreative's may say others)."""
    if found.cancelled:
        return Job.Status.CANCELLED
    if found.failed:
        return Job.Status.FAILED
    if found.completed:
        return Job.Status.COMPLETED
    return Job.Status.PROCESSING if found.started else Job.Status.SUBMITTED


def _job_row(job: Job) -> TeamProcess:
    return TeamProcess(
        process_id=job.process_id,
        progress=job.progress,
        state=job.status,
        label=job.status_label,
        error_message="",
        faces_detected=None,
        faces_enhanced=None,
        created_at=job.created_at,
        job=job,
        member=_member_name(job, ""),
    )


def _upload_name(item: dict[str, Any]) -> str:
    uploaded = item.get("uploadedImage")
    name = uploaded.get("fileName") if isinstance(uploaded, dict) else None
    return str(name or item.get("fileName") or "")


def _member_name(job: Job | None, fallback: str) -> str:
    if job is not None and job.uploader is not None:
        return job.uploader.get_username()
    return fallback


def _datetime(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        # A .NET API (AdCreative's) may send DateTime without an offset: it means UTC.
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


# --- Staff figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def status_counts() -> list[StatusCount]:
    counted = dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [StatusCount(s.value, s.label, counted.get(s.value, 0)) for s in Job.Status]


@dataclass(frozen=True)
class FailureReason:
    message: str
    count: int


def failures_since(since: datetime) -> tuple[list[FailureReason], list[Job]]:
    """The reasons of recent failures, most frequent first, and the latest failed jobs."""
    failed = Job.objects.filter(status=Job.Status.FAILED, completed_at__gte=since)
    reasons = [
        FailureReason(message or "(no reason recorded)", n)
        for message, n in failed.values_list("error_message")
        .annotate(n=Count("id"))
        .order_by("-n", "error_message")[:20]
    ]
    latest = list(failed.select_related("team", "uploader").order_by("-completed_at")[:20])
    return reasons, latest


@dataclass(frozen=True)
class ProcessingTimes:
    count: int
    mean: float | None  # seconds from upload to result in media storage
    p95: float | None


def processing_times(since: datetime, *, limit: int = 10_000) -> ProcessingTimes:
    rows = (
        Job.objects.filter(status=Job.Status.COMPLETED, completed_at__gte=since)
        .order_by("-completed_at")
        .values_list("created_at", "completed_at")[:limit]
    )
    seconds = sorted((done - created).total_seconds() for created, done in rows if done)
    if not seconds:
        return ProcessingTimes(0, None, None)
    return ProcessingTimes(len(seconds), sum(seconds) / len(seconds), percentile(seconds, 95))


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ordered, non-empty sequence."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
