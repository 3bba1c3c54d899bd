"""Reads of face enhancing processes, always scoped by the authenticated application.

A GUID is not an access check: every query here starts from the application
the credentials belong to, so one application can never see, count or download
another's processes, and a foreign id simply matches nothing.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from enhancer.models import Application, FaceEnhancerProcess, RenderTask


def processes_of(
    *,
    application: Application,
    user_id: uuid.UUID | None = None,
    process_id: uuid.UUID | None = None,
) -> QuerySet[FaceEnhancerProcess]:
    """The application's processes (of one user, or one process), newest first."""
    processes = FaceEnhancerProcess.objects.filter(application=application)
    if user_id is not None:
        processes = processes.filter(user_id=user_id)
    if process_id is not None:
        processes = processes.filter(pk=process_id)
    return processes.order_by("-created_at", "-id").prefetch_related("render_tasks")


def process_get(*, application: Application, process_id: uuid.UUID) -> FaceEnhancerProcess | None:
    return processes_of(application=application, process_id=process_id).first()


@dataclass(frozen=True)
class ProcessPage:
    items: list[FaceEnhancerProcess]
    page: int
    page_size: int
    total_count: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.page_size)

    @property
    def has_previous_page(self) -> bool:
        return self.page > 1

    @property
    def has_next_page(self) -> bool:
        return self.page < self.total_pages


def process_page(
    processes: QuerySet[FaceEnhancerProcess], *, page: int, page_size: int
) -> ProcessPage:
    """One page of `processes`; `items` is empty when the page is past the end."""
    start = (page - 1) * page_size
    items = list(processes[start : start + page_size])
    if items and len(items) < page_size:
        total = start + len(items)  # a last page that is not full tells the count
    else:
        # A full page, or none: only a COUNT tells how many there are (and if
        # `page` is past the end of a non-empty list).
        total = processes.count()
    return ProcessPage(items=items, page=page, page_size=page_size, total_count=total)


def render_task_for_download(
    *, application: Application, process_id: uuid.UUID, task_id: uuid.UUID
) -> RenderTask | None:
    """The task, if the three ids belong together; None otherwise."""
    return (
        RenderTask.objects.select_related("process")
        .filter(pk=task_id, process_id=process_id, process__application=application)
        .first()
    )
