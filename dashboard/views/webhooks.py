"""POST /webhooks/face-enhancer/<connection>: the API's signed notifications.

The API signs each delivery as Standard Webhooks asks (https://www.standardwebhooks.com/):
`whsec_` secrets, and one signature per secret while the API rotates. The
`standardwebhooks` library checks them, with its five minutes of tolerance
for the timestamp, so the dashboard needs nothing of the API's code.
"""

from __future__ import annotations

import binascii
import json
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from dashboard.models import ApiConnection, Job
from dashboard.webhook_events import job_apply_notification


@csrf_exempt
@require_POST
def receive(request: HttpRequest, connection_id: int) -> HttpResponse:
    """One signed notification: 204 once applied (or not ours), 4xx when refused."""
    connection = get_object_or_404(ApiConnection, pk=connection_id)
    if not connection.webhook_secret:
        # Unsigned webhooks (AdCreative's) cannot be told from forgeries: polling covers them.
        return HttpResponse("This receiver only accepts signed webhooks.", status=401)
    refused = _refusal(connection.webhook_secret, request)
    if refused:
        return HttpResponse(f"Signature refused: {refused}.", status=401)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse("Signature refused: the signed body is not JSON.", status=401)
    if not isinstance(payload, dict):
        return HttpResponse("The message is not a JSON object.", status=400)
    try:
        process_id = uuid.UUID(str(payload.get("ImageRenderProcessId")))
    except ValueError:
        return HttpResponse("ImageRenderProcessId is not a GUID.", status=400)
    job = Job.objects.filter(team__connection=connection, process_id=process_id).first()
    if job is not None:
        job_apply_notification(job=job, payload=payload)
    # Processes started by other clients of the application are not ours: acknowledged all the same.
    return HttpResponse(status=204)


def _refusal(secret: str, request: HttpRequest) -> str:
    """Why the request's signature is refused, or "" when one of its signatures matches."""
    try:
        Webhook(secret).verify(request.body, dict(request.headers), json_parse=False)
    except WebhookVerificationError as e:
        return str(e)
    except (binascii.Error, ValueError):  # a malformed signature, or a body that is not UTF-8
        return "the signature header or the body is malformed"
    return ""
