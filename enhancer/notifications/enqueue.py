"""Sending notification work to the workers, by task name.

The only place notification code sends a message: it names the task rather
than importing it, so the services and deliveries never import the tasks
module back. The queue is chosen by `task_routes` in config/celery.py.
"""

from __future__ import annotations

from celery import current_app

DELIVER_WEBHOOK = "notifications.deliver_webhook"


def deliver_webhook(*, delivery_id: int, countdown: float | None = None) -> None:
    """Raises whatever the broker raises when it does not take the message."""
    # No result is stored: send_task must not subscribe to the result backend
    # (see enhancer.processing.enqueue).
    current_app.send_task(
        DELIVER_WEBHOOK, args=[delivery_id], countdown=countdown, ignore_result=True
    )
