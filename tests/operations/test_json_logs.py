"""LOG_FORMAT=json: one JSON object per log line, for log collectors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.deploy.compose import ROOT

SCRIPT = (
    "import django, logging; django.setup(); "
    "logging.getLogger('enhancer.processing.run').warning('process %s: failed', 'p-1')"
)


def _log_line(log_format: str, tmp_path) -> str:
    env = {
        **os.environ,
        "LOG_FORMAT": log_format,
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stderr.strip().splitlines()[-1]


def test_json_lines_carry_time_level_logger_and_message(tmp_path):
    record = json.loads(_log_line("json", tmp_path))

    assert record["level"] == "WARNING"
    assert record["logger"] == "enhancer.processing.run"
    assert record["message"] == "process p-1: failed"
    assert record["time"]


def test_plain_is_for_people(tmp_path):
    line = _log_line("plain", tmp_path)

    assert line.endswith("WARNING enhancer.processing.run process p-1: failed")
