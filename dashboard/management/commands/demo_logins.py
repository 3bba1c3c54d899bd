"""Print the demo logins again, in a box: `manage.py demo_logins`.

bootstrap_demo keeps the demo passwords it made in VAR_DIR/demo-logins
(readable by this user only); a password changed since is not printed. With
--when-up (bin/run) it first waits for the server and its programs to be up,
so that the box comes after the workers' start-up banners, not under them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

# The demo's two people, made by bootstrap_demo.
DEMO_ADMIN = "admin"
DEMO_MEMBER = "demo"
LOGINS_FILE = "demo-logins"
WAIT_SECONDS = 180


def logins_path() -> Path:
    return Path(settings.VAR_DIR) / LOGINS_FILE


def remember(username: str, password: str) -> None:
    """Keep a demo password made by bootstrap_demo, for this command to print again."""
    path = logins_path()
    known = _read(path)
    known[username] = password
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(known, f)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class Command(BaseCommand):
    help = "Print the demo logins (admin and member) and where to go, in a box."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--when-up",
            action="store_true",
            help="First wait until /healthz answers and no supervised program is starting.",
        )

    def handle(self, *args: object, **options: object) -> None:
        port = os.environ.get("PORT", "8000")
        base = f"http://127.0.0.1:{port}"
        if options["when_up"]:
            # bin/run starts this in the background (`&`), and a background command of a
            # script ignores SIGINT: a Ctrl-C would leave it waiting, to print "is up"
            # after everything stopped. It goes with the rest instead.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        if options["when_up"] and not _wait_until_up(base):
            return  # the server never came up: its own log says why
        known = _read(logins_path())
        users = {
            u.get_username(): u
            for u in get_user_model().objects.filter(username__in=[DEMO_ADMIN, DEMO_MEMBER])
        }
        lines = [f"Face Enhancer is up at {base}/", ""]
        for username, where in ((DEMO_MEMBER, "dashboard  /"), (DEMO_ADMIN, "admin      /admin/")):
            user = users.get(username)
            password = known.get(username)
            if user is None:
                shown = "(no such user: run make run or manage.py bootstrap_demo)"
            elif password and user.check_password(password):
                shown = password
            else:
                shown = "(password changed since; manage.py changepassword " + username + ")"
            lines.append(f"{where:20} {username} / {shown}")
        lines += [
            f"{'API docs   /api/docs/':20}",
            "",
            "Print this again: .venv/bin/python manage.py demo_logins",
        ]
        width = max(len(line) for line in lines)
        box = ["┌" + "─" * (width + 2) + "┐"]
        box += [f"│ {line.ljust(width)} │" for line in lines]
        box.append("└" + "─" * (width + 2) + "┘")
        self.stdout.write("\n" + "\n".join(box) + "\n")
        sys.stdout.flush()


def _wait_until_up(base: str) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    conf = Path(settings.VAR_DIR) / "run" / "supervisord.conf"
    supervisorctl = Path(sys.executable).parent / "supervisorctl"
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                if response.status != 200:
                    continue
        except OSError:
            continue
        if conf.exists() and supervisorctl.exists():
            status = subprocess.run(  # noqa: S603 (fixed paths, no shell)
                [str(supervisorctl), "-c", str(conf), "status"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if "STARTING" in status:
                continue
        time.sleep(2)  # the last banners of the programs that just started
        return True
    return False
