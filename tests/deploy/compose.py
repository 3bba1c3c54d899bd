"""Reading docker-compose.yml and the settings' variables, for the deploy tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
APP_SERVICES = ("migrate", "web", "worker-enhance", "worker-default", "beat")

# Variables read outside config/settings.py: by compose itself (interpolation),
# by the postgres image, or by the process command lines.
COMPOSE_ONLY = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "WEB_CONCURRENCY",
    "ENHANCE_CONCURRENCY",
    "DEFAULT_CONCURRENCY",
    "PORT",
    "WORKER_STOP_GRACE",  # read by bin/run's config/supervisor.py, not the settings
}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads through the env helpers."""
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"env_\w+\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def env_example_variables() -> dict[str, str]:
    variables = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            variables[match.group(1)] = match.group(2)
    return variables


def command_line(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)
