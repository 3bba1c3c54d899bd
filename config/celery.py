"""The Celery application.

Tasks are discovered in the installed apps. Two queues: `enhance` for the
CPU-heavy image work and `default` for I/O (API calls, downloads,
notifications), so that quick I/O work is never stuck behind enhancements.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

from config import kombu_redis_fixes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
kombu_redis_fixes.install()

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (
    Queue("default", routing_key="default"),
    Queue("enhance", routing_key="enhance"),
)
app.autodiscover_tasks()


@app.task(name="health.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Round-tripped through the broker by /healthz to prove a worker is consuming."""
    return "pong"
