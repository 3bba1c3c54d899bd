"""What a user reads in a process's `errorMessage` when it did not complete.

Engine errors carry their own message (EngineError.message), written for
users; these are the causes on our side, shared by the run, the cancel and the
worker's signal handlers.
"""

from __future__ import annotations

from django.conf import settings

UNEXPECTED_ERROR = (
    "An unexpected error stopped the enhancement and has been logged. "
    "Try again; if it keeps happening, contact the service's operator."
)
UPLOAD_MISSING = "The uploaded image is no longer stored on the server; upload it again."
NOT_QUEUED = "The service could not queue this image for processing; start it again in a moment."
OUT_OF_MEMORY = (
    "The image needs more memory than this server has; reduce its dimensions and try again."
)
CANCELLED_MESSAGE = "The process was cancelled by its application."


def time_limit_message() -> str:
    return (
        f"Enhancing this image took longer than the {settings.CELERY_TASK_TIME_LIMIT} s "
        "limit and was stopped; try a smaller image or a lower maxFaceCount."
    )


def attempts_message(attempts: int) -> str:
    return (
        f"The worker enhancing this image stopped unexpectedly {attempts} times (for "
        "example, it ran out of memory), so it was not tried again; try a smaller image."
    )
