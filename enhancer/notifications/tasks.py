"""Celery tasks of notification channels (routed to the `default` queue in config/celery.py).

`deliver_webhook` makes one attempt at a delivery and schedules the next.
`sweep_deliveries` runs on beat and re-drives deliveries whose message was lost.
"""

from __future__ import annotations

from celery import shared_task

from enhancer.notifications import enqueue
from enhancer.notifications.deliveries import (
    attempt_time_limit,
    deliveries_sweep,
    webhook_delivery_attempt,
)


# The soft limit turns a receiver that trickles its answer into a retried
# timeout (deliveries.py catches it); the hard limit is the backstop.
# Retries are not Celery's: the attempt count lives on the delivery row (the
# admin's "send again" resets it, the sweeps re-drive it) and the time of the
# next attempt is recorded there, so the row, not the message, decides.
# celery-types wants int time limits; Celery and billiard take float seconds.
@shared_task(  # type: ignore[call-overload]
    name=enqueue.DELIVER_WEBHOOK,
    ignore_result=True,
    soft_time_limit=attempt_time_limit(),
    time_limit=attempt_time_limit() + 15,
)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt at a delivery; schedules the next one when it must be retried."""
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome is not None and outcome.retry_in is not None:
        enqueue.deliver_webhook(delivery_id=delivery_id, countdown=outcome.retry_in)


@shared_task(name="notifications.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    return len(deliveries_sweep())
