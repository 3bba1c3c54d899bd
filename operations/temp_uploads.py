"""Deleting the temporary files of uploads whose request never finished.

Django streams a large upload to a file in FILE_UPLOAD_TEMP_DIR and deletes
it when the request ends. A web worker killed mid-upload (a restart, the OOM
killer, a timeout) never gets there, and nothing else would remove its file.

Each file is named after the process receiving it (`<host>-<pid>-…`), so a
web worker starting on that host deletes at once the files of processes that
no longer exist (gunicorn replaces a killed worker within a second); files
untouched for FILE_UPLOAD_TEMP_MAX_AGE go too, whoever wrote them (the
periodic purge, which may run on another host or in another container and so
cannot judge processes).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

logger = logging.getLogger(__name__)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64]


def _owner_prefix() -> str:
    return f"{_host()}-{os.getpid()}-"


class OwnedTemporaryUploadedFile(TemporaryUploadedFile):
    """Django's TemporaryUploadedFile, its file named after the receiving process."""

    def __init__(
        self,
        name: str,
        content_type: str | None,
        size: int | None,
        charset: str | None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        _, ext = os.path.splitext(name)
        file = tempfile.NamedTemporaryFile(
            prefix=_owner_prefix(), suffix=".upload" + ext, dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class OwnedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """TemporaryFileUploadHandler whose files say which process receives them."""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        # The grandparent's bookkeeping only: the parent's would open a file too.
        FileUploadHandler.new_file(
            self, field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self.file = OwnedTemporaryUploadedFile(
            file_name, content_type, 0, charset, content_type_extra
        )


def _owner_is_gone(name: str) -> bool:
    here = f"{_host()}-"
    pid = name[len(here) :].split("-", 1)[0] if name.startswith(here) else ""
    if not pid.isdigit():
        return False  # not named by us, or received on another host: age decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # someone else's live process
    return False


def temp_uploads_purge(*, older_than: float | None = None, dead_owners: bool = False) -> int:
    """Delete files in FILE_UPLOAD_TEMP_DIR untouched for `older_than` seconds
    and, with `dead_owners`, those whose receiving process on this host is gone;
    how many.

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
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat().st_mtime < cutoff or (dead_owners and _owner_is_gone(entry.name)):
                os.unlink(entry.path)
                deleted += 1
        except FileNotFoundError:
            continue  # its request finished (or another purge ran) meanwhile
        except OSError as e:
            logger.warning("Could not delete the temporary upload %s: %s", entry.path, e)
    if deleted:
        logger.warning("Deleted %s abandoned temporary upload file(s) in %s", deleted, folder)
    return deleted
