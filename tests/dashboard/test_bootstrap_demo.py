"""`manage.py bootstrap_demo` (run by `make run`): the demo logins land in the demo team."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from dashboard.models import Membership
from tests.conftest import ROOT
from tests.system.stack import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    """The demo passwords are kept in VAR_DIR: never the developer's own var/."""
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _bootstrap() -> str:
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    return out.getvalue()


def test_the_demo_admin_and_member_are_in_the_demo_team(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _bootstrap()

    for username in ("admin", "demo"):
        user = get_user_model().objects.get(username=username)
        assert Membership.objects.filter(user=user, team__name="Demo team").exists()
        client.force_login(user)
        html = client.get(reverse("dashboard:jobs")).content.decode()
        assert "not in a team yet" not in html
        assert "My jobs" in html and "Demo team" in html


def test_an_older_demo_admin_joins_the_team_on_the_next_run(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _bootstrap()
    admin = get_user_model().objects.get(username="admin")
    Membership.objects.filter(user=admin).delete()  # as bootstrap_demo left it before

    again = _bootstrap()

    assert Membership.objects.filter(user=admin, team__name="Demo team").count() == 1
    assert "shown once" not in again  # no password is made or printed again


def _logins() -> str:
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    return out.getvalue()


def test_demo_logins_prints_the_logins_again_in_a_box(settings):
    made = _bootstrap()
    password = made.split("Demo member login (shown once): demo / ")[1].split()[0]

    shown = _logins()

    assert shown.strip().startswith("┌") and shown.strip().endswith("┘")
    assert f"demo / {password}" in shown
    assert "admin / " in shown and "/admin/" in shown and "/api/docs/" in shown
    assert oct((settings.VAR_DIR / "demo-logins").stat().st_mode & 0o777) == "0o600"


def test_a_changed_password_is_not_printed(settings):
    made = _bootstrap()
    password = made.split("Demo member login (shown once): demo / ")[1].split()[0]
    user = get_user_model().objects.get(username="demo")
    user.set_password("something-else-42")
    user.save()

    shown = _logins()

    assert password not in shown
    assert "password changed since; manage.py changepassword demo" in shown


def test_a_ctrl_c_stops_the_waiting_demo_logins_started_in_the_background(tmp_path):
    # As bin/run starts it: with `&` in a script, where SIGINT arrives ignored.
    # The port is closed, so it waits for a server that never comes.
    env = {**os.environ, "PORT": str(free_port()), "VAR_DIR": str(tmp_path)}
    script = f"{sys.executable} manage.py demo_logins --when-up & echo $!; wait"
    shell = subprocess.Popen(
        ["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    pid = int(shell.stdout.readline())
    try:
        time.sleep(3)  # past Django's start-up, into the wait
        os.kill(pid, signal.SIGINT)
        # bash's `wait` returns when the command is gone; it would wait 180 s otherwise.
        shell.wait(timeout=15)
    finally:
        if shell.poll() is None:
            os.kill(pid, signal.SIGKILL)
            shell.wait()
