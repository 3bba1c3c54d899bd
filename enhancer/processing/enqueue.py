"""Sending face enhancing work to the workers, by task name.

The only place the processing code sends a message: it names the task rather
than importing it, so no module imports the tasks module back (the tasks
import the services, never the reverse). The queue is chosen by
`task_routes` in config/celery.py.
"""

from __future__ import annotations

import uuid

from celery import current_app

PROCESS_ENHANCE = "enhancer.process_enhance"


def process_enhance(*, process_id: uuid.UUID) -> None:
    """Raises whatever the broker raises when it does not take the message."""
    # The task stores no result; saying so keeps send_task from subscribing to
    # the result backend for it (a backend that lost its broker once stays
    # broken in the thread that holds it, and every later send would fail).
    current_app.send_task(PROCESS_ENHANCE, args=[str(process_id)], ignore_result=True)
