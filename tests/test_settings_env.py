"""The settings refuse bad environment values loudly, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str, env_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def environ(monkeypatch):
    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)

    return set_


def test_bool_accepts_the_usual_spellings(environ):
    for value, expected in [
        ("true", True),
        ("1", True),
        ("On", True),
        ("false", False),
        ("0", False),
    ]:
        environ("X_FLAG", value)
        assert env_bool("X_FLAG", not expected) is expected


def test_bool_refuses_anything_else_naming_the_variable(environ):
    environ("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG", False)


def test_missing_values_fall_back_to_the_default(monkeypatch):
    monkeypatch.delenv("X_MISSING", raising=False)
    assert env_int("X_MISSING", 7) == 7
    assert env_str("X_MISSING", "a") == "a"
    assert env_list("X_MISSING", ["b"]) == ["b"]


def test_int_refuses_text_and_out_of_range(environ):
    environ("X_PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match=r"X_PORT='eighty' is not an integer"):
        env_int("X_PORT", 80)
    environ("X_PORT", "0")
    with pytest.raises(ImproperlyConfigured, match=r"X_PORT='0' is below the minimum 1"):
        env_int("X_PORT", 80, minimum=1)


def test_float_refuses_nan_and_out_of_range(environ):
    environ("X_RATIO", "nan")
    with pytest.raises(ImproperlyConfigured, match=r"X_RATIO='nan' is not a number"):
        env_float("X_RATIO", 0.5)
    environ("X_RATIO", "1.5")
    with pytest.raises(ImproperlyConfigured, match=r"X_RATIO='1.5' is above the maximum 1"):
        env_float("X_RATIO", 0.5, minimum=0, maximum=1)


def test_url_refuses_a_wrong_scheme(environ):
    environ("X_DB", "mysql://db/app")
    with pytest.raises(ImproperlyConfigured, match=r"X_DB='mysql://db/app' must be a URL"):
        env_url("X_DB", "", schemes=("postgres", "sqlite"))


def test_file_variant_reads_docker_secrets(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET", "") == "s3cret"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "sometimes"),
        ("DATABASE_URL", "mysql://localhost/app"),
        ("REDIS_URL", "http://localhost:6379"),
        ("CELERY_TASK_TIME_LIMIT", "5000"),
        ("HEALTH_WORKER_TIMEOUT", "soon"),
    ],
)
def test_the_settings_module_refuses_a_bad_value_at_start(name, value, tmp_path):
    env = {**os.environ, name: value, "VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr
    assert name in run.stderr and value in run.stderr
