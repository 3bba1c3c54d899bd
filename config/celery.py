"""The Celery application, its queues (and how many messages wait in one), its
routes and its whole beat schedule.

Tasks are discovered in the installed apps (and enhancer.processing). Two
queues: `enhance` for the CPU-heavy image work and `default` for I/O (API
calls, downloads, notifications, sweeps), so that quick I/O work is never
stuck behind enhancements. Code sends messages by task name through one small
enqueue module per app and never names a queue: `task_routes` below does.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from django.conf import settings
from kombu import Queue
from kombu.exceptions import ChannelError

from config import kombu_redis_fixes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
kombu_redis_fixes.install()

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (
    Queue("default", routing_key="default"),
    Queue("enhance", routing_key="enhance"),
)
app.conf.task_routes = {
    "enhancer.process_enhance": {"queue": "enhance"},
    "enhancer.sweep_stale_processes": {"queue": "default"},
    "notifications.*": {"queue": "default"},
    "operations.*": {"queue": "default"},
    "dashboard.*": {"queue": "default"},
    "health.ping": {"queue": "default"},
}
app.autodiscover_tasks()
# The processing tasks live in a package of the `enhancer` app, not in
# `enhancer.tasks`, where the discovery above looks.
app.autodiscover_tasks(["enhancer.processing"])


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Every periodic task; each message expires when the next one is due."""

    def every(seconds: float, task: str) -> dict[str, Any]:
        return {"task": task, "schedule": seconds, "options": {"expires": seconds}}

    requeue_every = settings.FACE_ENHANCING_REQUEUE_AFTER / 2
    return {
        "enhancer-sweep-stale-processes": every(requeue_every, "enhancer.sweep_stale_processes"),
        "notifications-sweep-deliveries": every(
            settings.NOTIFICATION_WEBHOOK_SWEEP_INTERVAL, "notifications.sweep_deliveries"
        ),
        "dashboard-sweep-stale-jobs": every(
            settings.DASHBOARD_SWEEP_INTERVAL, "dashboard.jobs_sweep"
        ),
        "operations-broker-check": every(settings.BROKER_CHECK_INTERVAL, "operations.broker_check"),
        "operations-retention": every(3600.0, "operations.retention_purge"),
        "operations-temp-uploads": every(600.0, "operations.temp_uploads_purge"),
    }


@app.on_after_configure.connect
def _set_beat_schedule(sender: Celery, source: Any, **kwargs: Any) -> None:
    # Once the Django settings are loaded (they give the intervals), never at
    # import: this module is imported while the settings are being read.
    source.beat_schedule = beat_schedule()


@app.task(name="health.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Round-tripped through the broker by /healthz to prove a worker is consuming."""
    return "pong"


def queue_depth(queue: str) -> int | None:
    """Messages waiting in one of the queues, or None when the broker cannot be asked.

    kombu's passive queue_declare counts them on any transport; Redis keeps no
    key for an empty queue, which kombu reports as "not found": that is 0.
    """
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            with conn.channel() as channel:
                try:
                    # kombu's StdChannel stub omits queue_declare; every transport's Channel has it.
                    declared = channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
                    return int(declared.message_count)
                except ChannelError:
                    return 0
    except Exception:  # any broker error means "cannot be asked"; the pages say so
        return None
