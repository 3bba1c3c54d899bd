"""GET /healthz: is the service able to do its work right now?

Reports `database`, `broker` and `worker`, each "ok" or an error message. The
worker check sends a real task through the broker and waits briefly for its
answer, so it fails when no worker consumes the `default` queue.
"""

from __future__ import annotations

import contextlib

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app, ping

OK = "ok"


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as e:  # any driver error means "down"; report it, don't raise
        return f"error: {e.__class__.__name__}: {e}".strip()
    return OK


def check_broker() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
    except Exception as e:
        return f"error: {e.__class__.__name__}: {e}".strip()
    return OK


def check_worker() -> str:
    timeout = settings.HEALTH_WORKER_TIMEOUT
    try:
        # expires: a ping nobody took in time must not linger in the queue.
        result = ping.apply_async(expires=timeout * 2, retry=False)
    except Exception as e:
        return f"error: cannot send a task: {e.__class__.__name__}: {e}"
    try:
        answer = result.get(timeout=timeout)
    except CeleryTimeout:
        return f"error: no worker answered within {timeout:g} s"
    except Exception as e:
        return f"error: {e.__class__.__name__}: {e}"
    finally:
        # Cleanup only; the answer is what matters.
        with contextlib.suppress(Exception):
            result.forget()
    return OK if answer == "pong" else f"error: unexpected answer {answer!r}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    checks["worker"] = check_worker() if checks["broker"] == OK else "error: broker unavailable"
    healthy = all(value == OK for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
