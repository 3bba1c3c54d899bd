"""Celery tasks of notification channels, on the `default` queue.

`deliver_webhook` makes one attempt at a delivery and schedules the next.
`sweep_deliveries` runs on beat and re-drives deliveries whose message was lost.
"""

from __future__ import annotations

from celery import current_app, shared_task
from django.conf import settings

from enhancer.notifications.deliveries import (
    attempt_time_limit,
    deliveries_sweep,
    webhook_delivery_attempt,
)


# The soft limit turns a receiver that trickles its answer into a retried
# timeout (deliveries.py catches it); the hard limit is the backstop.
@shared_task(
    name="notifications.deliver_webhook",
    ignore_result=True,
    soft_time_limit=attempt_time_limit(),
    time_limit=attempt_time_limit() + 15,
)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt at a delivery; schedules the next one when it must be retried."""
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome is not None and outcome.retry_in is not None:
        deliver_webhook.apply_async(args=[delivery_id], countdown=outcome.retry_in, queue="default")


@shared_task(name="notifications.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    return len(deliveries_sweep())


# Registered from here rather than in settings' CELERY_BEAT_SCHEDULE so that
# the app owns its schedule; beat imports the tasks modules before it reads it.
current_app.add_periodic_task(
    settings.NOTIFICATION_WEBHOOK_SWEEP_INTERVAL,
    sweep_deliveries.s(),
    name="notifications-sweep-deliveries",
    queue="default",
    expires=settings.NOTIFICATION_WEBHOOK_SWEEP_INTERVAL,
)
