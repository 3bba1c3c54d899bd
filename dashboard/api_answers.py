"""Reading processes out of the API's progress answers, whatever their envelope.

The seed documents the query parameters, not the bodies, and AdCreative's
bodies are not public beyond their conventions: camelCase fields, a process
`progress` of 0..100 and render tasks that are complete at `renderState` 5.
So this reader is lenient: it accepts a list, or a page object holding one,
and it decides "done" from progress and render states as well as from a
status word, so that the dashboard works against our API and theirs alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

RENDER_STATE_COMPLETED = 5
# renderState 2 Started, 3 Enhancing, 4 Storing: a worker has the image.
_RENDER_STATES_AT_WORK = {2, 3, 4}
_AT_WORK_WORDS = {"processing", "started", "running", "enhancing", "storing", "inprogress"}
_CANCELLED_WORDS = {"cancelled", "canceled"}
_DONE_WORDS = {"completed", "complete", "succeeded", "success", "done", "finished"}
_FAILED_WORDS = {"failed", "failure", "error", "errored", "cancelled", "canceled"}


@dataclass(frozen=True)
class ProcessSnapshot:
    process_id: uuid.UUID
    task_ids: tuple[uuid.UUID, ...]
    progress: int
    completed: bool
    failed: bool
    # A worker has the image (rather than it waiting in the API's queue).
    started: bool
    cancelled: bool
    error_message: str
    faces_detected: int | None
    faces_enhanced: int | None


def processes_in(body: Any) -> list[dict[str, Any]]:
    """The process objects of a progress answer, whatever envelope it uses."""
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict)]
    if isinstance(body, dict):
        for key in ("results", "items", "processes", "data", "value"):
            if isinstance(body.get(key), list):
                return processes_in(body[key])
        if _process_id(body) is not None:
            return [body]
    return []


def find_process(body: Any, process_id: uuid.UUID) -> ProcessSnapshot | None:
    for item in processes_in(body):
        if _process_id(item) == process_id:
            return snapshot(item)
    return None


def snapshot(item: dict[str, Any]) -> ProcessSnapshot:
    process_id = _process_id(item)
    if process_id is None:
        raise ValueError("The process has no imageFaceEnhancerProcessId.")
    tasks = [t for t in item.get("tasks") or item.get("renderTasks") or [] if isinstance(t, dict)]
    task_ids = [uuid_or_none(t.get("taskId") or t.get("id")) for t in tasks]
    if not task_ids and uuid_or_none(item.get("taskId")):
        task_ids = [uuid_or_none(item.get("taskId"))]
    progress = _int(item.get("progress"), 0)
    status = str(item.get("status") or "").strip().lower()
    error = str(item.get("errorMessage") or "").strip()
    states = [_int(t.get("renderState"), -1) for t in tasks]
    succeeded = item.get("isSuccessful")
    failed = status in _FAILED_WORDS or succeeded is False
    completed = not failed and (
        status in _DONE_WORDS
        or (progress >= 100 and all(s == RENDER_STATE_COMPLETED for s in states))
    )
    # "Queued" at 0% is in line, not being enhanced: only a status word, some
    # progress or a render state at work says a worker has it.
    started = not failed and (
        completed
        or status.replace(" ", "").replace("_", "") in _AT_WORK_WORDS
        or progress > 0
        or any(s in _RENDER_STATES_AT_WORK for s in states)
    )
    return ProcessSnapshot(
        process_id=process_id,
        task_ids=tuple(t for t in task_ids if t is not None),
        progress=max(0, min(100, progress)),
        completed=completed,
        failed=failed,
        started=started,
        cancelled=status in _CANCELLED_WORDS,
        error_message=error or ("The enhancement failed." if failed else ""),
        faces_detected=_optional_int(item.get("facesDetected")),
        faces_enhanced=_optional_int(item.get("facesEnhanced")),
    )


def _process_id(item: dict[str, Any]) -> uuid.UUID | None:
    return uuid_or_none(item.get("imageFaceEnhancerProcessId") or item.get("imageRenderProcessId"))


def uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _int(value: Any, default: int) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value, 0)
