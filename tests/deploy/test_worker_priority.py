"""The enhance worker runs at a lower CPU priority than the web, in `make run` and in compose.

The engine uses every core it gets; at nice 10 it still gets them all when
the web is idle, and progress reads no longer wait behind it (figures in
docs/performance.md). `nice` execs its command, so the worker stays the
program's main process and receives the supervisor's signals itself.
"""

from __future__ import annotations

import subprocess
import sys

from config.supervisor import ENHANCE_NICE, programs
from tests.deploy.compose import command_line, compose


def _commands(tmp_path) -> dict[str, list[str]]:
    return {program.name: program.command for program in programs(tmp_path)}


def test_make_run_starts_only_the_enhance_worker_under_nice(tmp_path):
    commands = _commands(tmp_path)

    assert commands["worker-enhance"][:3] == ["nice", "-n", "10"]
    assert commands["worker-enhance"][3:6] == [sys.executable, "-m", "celery"]
    for name in ("web", "worker-default", "beat"):
        assert commands[name][0] == sys.executable, commands[name]


def test_the_prefix_lowers_the_priority_of_what_it_runs():
    show = [sys.executable, "-c", "import os; print(os.nice(0))"]
    normal = subprocess.run(show, capture_output=True, text=True, check=True).stdout
    lowered = subprocess.run(
        [*ENHANCE_NICE, *show], capture_output=True, text=True, check=True
    ).stdout

    assert int(lowered) == min(int(normal) + 10, 19)


def test_compose_starts_only_the_enhance_worker_under_nice():
    services = compose()["services"]

    assert "exec nice -n 10 celery -A config worker -Q enhance" in command_line(
        services["worker-enhance"]
    )
    for name in ("web", "worker-default", "beat"):
        assert "nice" not in command_line(services[name]).split(), name
