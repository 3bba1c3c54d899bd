"""The dashboard as a receiver of the API's webhook notifications.

Before its first job a team's connection registers a webhook channel for its
application (the API refuses to start jobs for an application without an
active channel, as AdCreative does). The API signs each delivery (Standard
Webhooks); the receiver verifies the signature with the channel's secret, and
a completion starts the download at once. Polling stays as the fallback, so a
lost or refused webhook only makes a job slower, never stuck.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.client import ApiError
from dashboard.models import ApiConnection, Job
from enhancer.notifications.signing import WebhookVerificationError, verify

logger = logging.getLogger(__name__)

PROGRESS = "ImageFaceEnhancingProgress"
COMPLETED = "ImageFaceEnhancingTaskCompleted"


def receiver_url(connection: ApiConnection) -> str:
    return f"{settings.DASHBOARD_PUBLIC_URL.rstrip('/')}/webhooks/face-enhancer/{connection.pk}"


def connection_register_webhook(*, connection: ApiConnection) -> bool:
    """Register this dashboard's webhook channel once. True when one is registered.

    Failure is not fatal: the caller goes on and the job is polled. (If the
    API insists on a channel, the start call then fails with its own message.)
    """
    if connection.notification_channel_id is not None:
        return True
    from dashboard.services import connection_client

    try:
        body = connection_client(connection).create_webhook_channel(url=receiver_url(connection))
    except ApiError as e:
        logger.warning("Could not register a webhook channel for %s: %s", connection, e.message)
        return False
    channel_id = body.get("notificationChannelId") if isinstance(body, dict) else None
    secret = body.get("signingSecret", "") if isinstance(body, dict) else ""
    if not channel_id:
        return False
    # A conditional update: two workers registering at once keep one channel's secret.
    with transaction.atomic():
        updated = ApiConnection.objects.filter(
            pk=connection.pk, notification_channel_id=None
        ).update(notification_channel_id=channel_id, webhook_secret=secret)
    if updated:
        connection.notification_channel_id = uuid.UUID(str(channel_id))
        connection.webhook_secret = secret
    return True


@csrf_exempt
@require_POST
def receive(request: HttpRequest, connection_id: int) -> HttpResponse:
    """POST /webhooks/face-enhancer/<connection>: one signed notification."""
    connection = get_object_or_404(ApiConnection, pk=connection_id)
    if not connection.webhook_secret:
        # Unsigned webhooks (AdCreative's) cannot be told from forgeries: polling covers them.
        return HttpResponse("This receiver only accepts signed webhooks.", status=401)
    try:
        payload = verify(
            secret=connection.webhook_secret, headers=request.headers, body=request.body
        )
    except WebhookVerificationError as e:
        return HttpResponse(f"Signature refused: {e}.", status=401)
    if not isinstance(payload, dict):
        return HttpResponse("The message is not a JSON object.", status=400)
    try:
        process_id = uuid.UUID(str(payload.get("ImageRenderProcessId")))
    except ValueError:
        return HttpResponse("ImageRenderProcessId is not a GUID.", status=400)
    job = Job.objects.filter(team__connection=connection, process_id=process_id).first()
    if job is not None:
        _apply(job, payload)
    # Processes started by other clients of the application are not ours: acknowledged all the same.
    return HttpResponse(status=204)


def _apply(job: Job, payload: dict[str, object]) -> None:
    from dashboard.services import job_fail, job_mark_completed_upstream
    from dashboard.tasks import job_download_task

    message_type = payload.get("MessageType")
    if message_type == COMPLETED:
        if payload.get("IsSuccessful") is False:
            job_fail(
                job_id=job.pk, message=str(payload.get("ErrorMessage") or "The enhancement failed.")
            )
        elif (
            job_mark_completed_upstream(
                process_id=job.process_id, task_id=_uuid_or_none(payload.get("TaskId"))
            )
            is not None
        ):
            transaction.on_commit(lambda: job_download_task.delay(str(job.pk)))
    elif message_type == PROGRESS:
        try:
            progress = max(0, min(100, int(payload.get("Progress") or 0)))
        except (TypeError, ValueError):
            return
        # Only forward: a late message must not move the bar back.
        Job.objects.filter(
            pk=job.pk,
            status__in=[Job.Status.SUBMITTED, Job.Status.PROCESSING],
            progress__lt=progress,
        ).update(status=Job.Status.PROCESSING, progress=progress, updated_at=timezone.now())


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
