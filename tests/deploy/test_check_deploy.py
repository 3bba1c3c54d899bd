"""`manage.py check --deploy` is clean with the production values of .env.example."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

from tests.deploy.compose import ROOT


def production_values() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^# production: ([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match and match.group(1) != "SECRET_KEY":  # a placeholder: each deployment makes one
            values[match.group(1)] = match.group(2)
    return values


def _check_deploy(extra: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VAR_DIR": str(tmp_path), **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_values_pass_every_deployment_check(tmp_path):
    values = production_values()
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE"} <= set(values)

    run = _check_deploy({**values, "SECRET_KEY": secrets.token_urlsafe(50)}, tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_the_bare_machine_defaults_are_not_production(tmp_path):
    run = _check_deploy({}, tmp_path)

    assert run.returncode != 0
    assert "security.W004" in run.stderr + run.stdout  # no HSTS
