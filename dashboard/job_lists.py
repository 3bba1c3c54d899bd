"""Reads behind the job lists: filters and pages, places in line, finished batches.

My jobs and the Team page carry a team's volume: a query (file name, state,
member) read from the URL, pages of PAGE_SIZE, and for queued jobs their
place in line with an estimate. Each list costs a fixed number of queries,
never one per row.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import QueryDict

from dashboard.models import Job, Membership, Team

PAGE_SIZE = 24
# The estimate is the median duration of this many latest finished jobs.
RECENT_FINISHED = 20
NO_FACE_FILTER = "no-face"  # a state word of its own (Job.NO_FACE), though stored as completed


# --- The query of a list ----------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """What the person asked the list for, from the URL (?q=&state=&member=&page=)."""

    q: str = ""
    state: str = ""  # a Job.Status value or NO_FACE_FILTER; empty: every state
    member: str = ""  # a username (Team page only)
    page: str = "1"

    @classmethod
    def from_get(cls, get: QueryDict) -> ListQuery:
        state = get.get("state", "")
        if state not in STATE_VALUES:
            state = ""  # an unknown state filters nothing rather than hiding everything
        return cls(
            q=get.get("q", "").strip()[:100],
            state=state,
            member=get.get("member", "").strip()[:150],
            page=get.get("page", "1"),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.state or self.member)

    def params(self, *, page: int | None = None) -> str:
        """The query string that keeps this query (for links and the live poll)."""
        pairs: list[tuple[str, str]] = [
            (k, v) for k, v in (("q", self.q), ("state", self.state), ("member", self.member)) if v
        ]
        if page is not None and page > 1:
            pairs.append(("page", str(page)))
        return urlencode(pairs)

    @property
    def current(self) -> str:
        """This query with its page, as the live endpoints need it."""
        try:
            number = int(self.page)
        except ValueError:
            number = 1
        return self.params(page=number)


# The state filter offers the one vocabulary of Job.Status labels, with
# "No face found" after Done, where it shows on the pages.
STATE_CHOICES: list[tuple[str, str]] = []
for _status in Job.Status:
    STATE_CHOICES.append((str(_status.value), str(_status.label)))
    if _status == Job.Status.COMPLETED:
        STATE_CHOICES.append((NO_FACE_FILTER, Job.NO_FACE))
STATE_VALUES = {v for v, _ in STATE_CHOICES}


def state_q(state: str) -> Q:
    if state == NO_FACE_FILTER:
        return Q(status=Job.Status.COMPLETED, faces_detected=0)
    if state == Job.Status.COMPLETED:
        # "Done" are the jobs that enhanced something; "No face found" are listed apart.
        return Q(status=state) & ~Q(faces_detected=0)
    return Q(status=state)


def page_of(items: Sequence[Any] | QuerySet[Any], query: ListQuery) -> Page:
    # get_page: a page past the end or not a number shows the last or first page.
    return Paginator(items, PAGE_SIZE).get_page(query.page)


@dataclass(frozen=True)
class Pager:
    """Links to the neighbouring pages, each keeping the query."""

    number: int
    count: int  # pages in all
    total: int  # items in all
    first: int  # 1-based index of the page's first item
    last: int
    previous: str  # "?..." or "" when there is none
    next: str

    @property
    def several(self) -> bool:
        return self.count > 1


def pager(page: Page, query: ListQuery) -> Pager:
    def link(number: int) -> str:
        return "?" + query.params(page=number) if query.params(page=number) else "?"

    return Pager(
        number=page.number,
        count=page.paginator.num_pages,
        total=page.paginator.count,
        first=page.start_index(),
        last=page.end_index(),
        previous=link(page.previous_page_number()) if page.has_previous() else "",
        next=link(page.next_page_number()) if page.has_next() else "",
    )


# --- My jobs ------------------------------------------------------------------------------


def member_jobs_page(membership: Membership, query: ListQuery) -> Page:
    jobs = Job.objects.filter(team=membership.team, user_guid=membership.user_guid)
    if query.q:
        jobs = jobs.filter(original_name__icontains=query.q)
    if query.state:
        jobs = jobs.filter(state_q(query.state))
    page = page_of(jobs.select_related("uploader", "team").order_by("-created_at"), query)
    annotate_queue(list(page.object_list))
    return page


def member_failed_jobs(membership: Membership, ids: Iterable[str] | None = None) -> list[Job]:
    """The member's failed jobs; only those among `ids` when given (others are ignored)."""
    jobs = Job.objects.filter(
        team=membership.team, user_guid=membership.user_guid, status=Job.Status.FAILED
    )
    if ids is not None:
        valid = []
        for value in ids:
            try:
                valid.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        jobs = jobs.filter(pk__in=valid)
    return list(jobs.order_by("created_at"))


def member_failed_count(membership: Membership) -> int:
    return Job.objects.filter(
        team=membership.team, user_guid=membership.user_guid, status=Job.Status.FAILED
    ).count()


# --- Places in line -------------------------------------------------------------------------

IN_LINE = (Job.Status.PENDING, Job.Status.WAITING, Job.Status.SUBMITTED)


@dataclass(frozen=True)
class QueueSpot:
    place: int  # 1: next to be taken
    seconds: float | None  # about how long until done; None without finished jobs to go by

    @property
    def place_words(self) -> str:
        return f"{ordinal(self.place)} in line"

    @property
    def eta_words(self) -> str:
        if self.seconds is None:
            return ""
        minutes = round(self.seconds / 60)
        if minutes < 1:
            return "less than a minute"
        return f"about {minutes} min"

    @property
    def words(self) -> str:
        return ", ".join(w for w in (self.place_words, self.eta_words) if w)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def recent_duration(connection_id: int) -> float | None:
    """Median seconds from upload to result of the latest finished jobs on a connection."""
    rows = (
        Job.objects.filter(team__connection_id=connection_id, status=Job.Status.COMPLETED)
        .exclude(completed_at=None)
        .order_by("-completed_at")
        .values_list("created_at", "completed_at")[:RECENT_FINISHED]
    )
    seconds = [(done - created).total_seconds() for created, done in rows if done]
    return statistics.median(seconds) if seconds else None


def annotate_queue(jobs: list[Job]) -> None:
    """Set `job.queue_spot` on the jobs still in line: two queries for the whole list.

    The line is every job of the same API connection not yet being enhanced,
    oldest first (the API takes its queue in order); the estimate is the
    median recent duration for each job ahead and for this one.
    """
    waiting = [job for job in jobs if job.status in IN_LINE]
    for job in jobs:
        # queue_spot is for the templates only, not a model field.
        job.queue_spot = None  # type: ignore[attr-defined]
    if not waiting:
        return
    connection_id = waiting[0].team.connection_id
    line = list(
        Job.objects.filter(team__connection_id=connection_id, status__in=IN_LINE)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    places = {pk: n for n, pk in enumerate(line, start=1)}
    median = recent_duration(connection_id)
    for job in waiting:
        place = places.get(job.pk)
        if place is not None:
            seconds = median * place if median is not None else None
            job.queue_spot = QueueSpot(place, seconds)  # type: ignore[attr-defined]  # see above


# --- Finished batches ---------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSummary:
    total: int
    done: int  # completed, faces or not
    failed: int  # failed or cancelled
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.done + self.failed == self.total

    @property
    def words(self) -> str:
        photos = f"{self.total} photo{'s' if self.total != 1 else ''}"
        if not self.finished:
            return f"Your batch of {photos}: {self.done + self.failed} of {self.total} finished."
        return f"Your batch of {photos} is done: {self.done} done, {self.failed} failed."


# A finished batch stays announced this long on My jobs, then it is just jobs.
BATCH_NOTICE_FOR = timedelta(hours=24)


def latest_batch(membership: Membership, *, now: datetime) -> BatchSummary | None:
    """The member's newest upload batch (one query), counted by outcome."""
    newest = (
        Job.objects.filter(team=membership.team, user_guid=membership.user_guid)
        .exclude(batch=None)
        .order_by("-created_at")
        .values_list("batch", flat=True)
        .first()
    )
    if newest is None:
        return None
    row = Job.objects.filter(batch=newest, team=membership.team).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=Job.Status.COMPLETED)),
        failed=Count("pk", filter=Q(status__in=[Job.Status.FAILED, Job.Status.CANCELLED])),
        finished_at=Max("completed_at"),
    )
    summary = BatchSummary(row["total"], row["done"], row["failed"], row["finished_at"])
    if summary.total < 2 and summary.finished:
        return None  # one photo: its own card says it all
    if summary.finished and (
        summary.finished_at is None or now - summary.finished_at > BATCH_NOTICE_FOR
    ):
        return None
    return summary


# --- The Team page's rows -------------------------------------------------------------------


def filter_team_rows(rows: Sequence[Any], query: ListQuery) -> list[Any]:
    """The Team page's rows (selectors.TeamProcess) that match the query."""
    wanted = query.q.lower()
    kept = []
    for row in rows:
        name = row.job.original_name if row.job is not None else row.name
        if wanted and wanted not in (name or "").lower():
            continue
        if query.member and row.member != query.member:
            continue
        if query.state == NO_FACE_FILTER and row.label != Job.NO_FACE:
            continue
        if query.state and query.state != NO_FACE_FILTER:
            if row.state != query.state or (
                query.state == Job.Status.COMPLETED and row.label == Job.NO_FACE
            ):
                continue
        kept.append(row)
    return kept


def team_member_names(team: Team) -> list[str]:
    return [m.user.get_username() for m in team.memberships.select_related("user")]
