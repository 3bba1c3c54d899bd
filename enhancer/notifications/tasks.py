"""Celery tasks of notification channels: sending webhook deliveries on `default`."""

from __future__ import annotations

from celery import shared_task

from enhancer.notifications.deliveries import attempt_time_limit, webhook_delivery_attempt


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
