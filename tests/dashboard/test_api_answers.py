"""Reading a process out of progress answers, ours and AdCreative-shaped."""

from __future__ import annotations

import uuid

from dashboard.api_answers import find_process, processes_in

PROCESS = uuid.UUID("2c3a9038-a7c8-4a8a-8821-a66dc433c3dd")
TASK = uuid.UUID("165ce0c4-27a4-4317-a388-3c4064cf8b17")


def _process(**fields: object) -> dict[str, object]:
    return {"imageFaceEnhancerProcessId": str(PROCESS), "progress": 40, **fields}


def test_a_plain_list_and_a_page_envelope_read_the_same():
    as_list = [_process()]
    as_page = {"count": 1, "next": None, "results": [_process()]}

    assert processes_in(as_list) == processes_in(as_page) == [_process()]


def test_completion_from_progress_and_render_state_without_a_status_word():
    body = [_process(progress=100, tasks=[{"taskId": str(TASK), "renderState": 5}])]

    found = find_process(body, PROCESS)

    assert found is not None
    assert found.completed and not found.failed
    assert found.task_ids == (TASK,)


def test_full_progress_with_a_task_still_rendering_is_not_complete():
    body = [_process(progress=100, tasks=[{"taskId": str(TASK), "renderState": 3}])]

    assert not find_process(body, PROCESS).completed


def test_a_failed_status_carries_the_error_message():
    body = [_process(status="Failed", errorMessage="No face was found.")]

    found = find_process(body, PROCESS)

    assert found.failed and not found.completed
    assert found.error_message == "No face was found."


def test_another_process_is_not_found():
    assert find_process([_process()], uuid.uuid4()) is None


def test_garbage_reads_as_nothing():
    assert processes_in("oops") == []
    assert processes_in({"results": "oops"}) == []
    assert find_process([{"progress": "x"}], PROCESS) is None


def test_queued_at_zero_is_not_started_until_a_worker_has_it():
    queued = find_process(
        [_process(status="Queued", progress=0, renderTasks=[{"renderState": 1}])], PROCESS
    )
    running = find_process([_process(status="Processing", progress=0)], PROCESS)
    enhancing = find_process(
        [_process(status="", progress=0, renderTasks=[{"renderState": 3}])], PROCESS
    )
    moving = find_process([_process(status="Queued", progress=20)], PROCESS)

    assert queued is not None and not queued.started
    assert running is not None and running.started
    assert enhancing is not None and enhancing.started
    assert moving is not None and moving.started
