"""Deleting the temporary files of uploads whose request never finished.

Django streams a large upload to a file in FILE_UPLOAD_TEMP_DIR and deletes
it when the request ends. A web worker killed mid-upload (a restart, the OOM
killer, a timeout) never gets there, and nothing else would remove its file.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def temp_uploads_purge(*, older_than: float | None = None) -> int:
    """Delete files in FILE_UPLOAD_TEMP_DIR untouched for `older_than` seconds; how many.

    Age is by modification time: a file still being received is written to by
    every chunk, so only abandoned ones grow old.
    """
    max_age = settings.FILE_UPLOAD_TEMP_MAX_AGE if older_than is None else older_than
    cutoff = time.time() - max_age
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    deleted = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                deleted += 1
        except FileNotFoundError:
            continue  # its request finished (or another purge ran) meanwhile
        except OSError as e:
            logger.warning("Could not delete the temporary upload %s: %s", entry.path, e)
    if deleted:
        logger.warning("Deleted %s abandoned temporary upload file(s) in %s", deleted, folder)
    return deleted
