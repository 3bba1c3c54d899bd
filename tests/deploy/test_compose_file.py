"""docker-compose.yml: the services, and that what they run exists here.

The file is checked by reading it: services, health checks, dependencies,
volumes, signals, and that every command and variable is one the project
knows. `make compose-check` runs it for real on a private Docker engine.
"""

from __future__ import annotations

import re

import pytest

from config.celery import app as celery_app
from tests.deploy.compose import (
    APP_SERVICES,
    COMPOSE_ONLY,
    ROOT,
    command_line,
    compose,
    settings_variables,
)


@pytest.fixture(scope="module")
def services():
    return compose()["services"]


def test_it_has_every_service_of_the_deployment(services):
    assert set(services) == {"postgres", "redis", *APP_SERVICES}


def test_databases_keep_data_in_named_volumes_and_report_health(services):
    volumes = compose()["volumes"]
    for name, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        assert f"{name}:{path}" in services[name]["volumes"]
        assert name in volumes
        assert services[name]["healthcheck"]["test"]
        assert services[name]["restart"] == "unless-stopped"


def test_python_services_share_one_image_and_the_media_volume(services):
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert "media:/data" in services[name]["volumes"]
        assert services[name]["environment"]["MEDIA_ROOT"].startswith("/data")


def test_they_start_after_healthy_databases_and_the_migrations(services):
    for name in ("web", "worker-enhance", "worker-default", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["restart"] == "unless-stopped"
    assert "migrate" in command_line(services["migrate"])


def test_long_running_processes_are_exec_ed_so_sigterm_reaches_them(services):
    for name in ("web", "worker-enhance", "worker-default", "beat"):
        line = command_line(services[name])
        assert re.search(r"\bexec (nice -n \d+ )?(gunicorn|celery)\b", line), line


def test_workers_consume_the_queues_the_app_declares(services):
    declared = {queue.name for queue in celery_app.conf.task_queues}
    consumed = {}
    for name in ("worker-enhance", "worker-default"):
        line = command_line(services[name])
        assert "-A config worker" in line
        consumed[name] = re.search(r"-Q (\S+)", line).group(1)
    assert consumed == {"worker-enhance": "enhance", "worker-default": "default"}
    assert set(consumed.values()) == declared
    assert "-A config beat" in command_line(services["beat"])


def test_the_enhance_worker_may_finish_its_longest_task_before_it_is_killed(services, settings):
    grace = services["worker-enhance"]["stop_grace_period"]
    minutes = int(re.fullmatch(r"(\d+)m", grace).group(1))
    assert minutes * 60 > settings.CELERY_TASK_TIME_LIMIT


def test_the_programs_the_commands_name_exist_in_the_project(services):
    assert (ROOT / "config" / "wsgi.py").exists()  # gunicorn config.wsgi
    assert (ROOT / "config" / "celery.py").exists()  # celery -A config
    assert (ROOT / "manage.py").exists()
    assert "gunicorn config.wsgi" in command_line(services["web"])


def test_every_variable_it_sets_is_one_the_settings_read(services):
    known = settings_variables() | COMPOSE_ONLY
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - known
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"
    interpolated = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text())
    )
    assert interpolated <= known, interpolated - known


def test_the_env_file_is_optional_and_read_by_every_python_service(services):
    for name in APP_SERVICES:
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]


def test_up_wait_can_wait_every_long_running_service_is_health_checked(services):
    """`docker compose up --wait` fails on a running service without a health
    check; the one-shot `migrate` is waited for by its exit code instead."""
    for name in ("postgres", "redis", "web", "worker-enhance", "worker-default", "beat"):
        healthcheck = services[name].get("healthcheck", {})
        assert not healthcheck.get("disable"), name
        if name != "web":  # web's is the image's HEALTHCHECK on /healthz
            assert healthcheck["test"], name
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_beat_is_healthy_only_as_beat_with_its_broker(services):
    test = " ".join(services["beat"]["healthcheck"]["test"])
    assert "/proc/1/cmdline" in test and "beat" in test
    assert "REDIS_URL" in test and ".ping()" in test
