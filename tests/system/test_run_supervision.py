"""`make run` as a service: a crashed part is restarted, and stopping is clean.

The processes are the ones `make run` starts (bin/run hands over to
supervisord). A stop signal, sent to bin/run or to make run's whole process
group, as Ctrl-C in a terminal, systemd or another supervisor sends it, must
leave nothing running within 30 s when the stack is idle.
"""

from __future__ import annotations

import os
import signal

import psutil
import pytest
import requests

from tests.conftest import wait_until
from tests.system.conftest import record

pytestmark = [pytest.mark.system, pytest.mark.slow]


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGTERM, False)],
    ids=["SIGINT to the group", "SIGTERM to the group", "SIGTERM to bin/run"],
)
def test_a_stop_signal_stops_every_process_within_30_s(stack, sig, group):
    programs = stack.program_pids()
    assert set(programs) == set(stack.programs)
    assert all(programs.values()), programs
    # The Celery workers' pool children are among what must stop. The pool forks
    # once the worker is up, which on a loaded machine may follow the site's health.
    wait_until(
        lambda: stack.pool_children("worker-enhance"),
        timeout=120,
        what="the enhance worker's pool children",
    )

    seconds = stack.stop(sig, group=group, timeout=30)

    assert stack.alive() == []
    # make's own exit status after the group's Ctrl-C is not asserted: one CI run
    # (2 December) saw make exit 0 where every other run saw it die of the signal,
    # unexplained and not reproduced; what a person relies on is that all stopped.
    record(
        "stop",
        signal=sig.name,
        sent_to="process group" if group else "bin/run (supervisord)",
        seconds=round(seconds, 1),
    )


def test_a_crashed_part_is_restarted_and_the_site_stays_up(stack):
    before = stack.program_pids()

    # A worker's main process dies (the OOM killer, a segfault): it comes back.
    os.kill(before["worker-default"], signal.SIGKILL)
    os.kill(before["beat"], signal.SIGKILL)
    after = wait_until(
        lambda: (
            (pids := stack.program_pids())["worker-default"] not in (0, before["worker-default"])
            and pids["beat"] not in (0, before["beat"])
            and pids
        ),
        timeout=60,
        what="supervisord to restart the killed programs",
    )

    # Nothing else was stopped for it: same web server, same enhance worker.
    assert after["web"] == before["web"]
    assert after["worker-enhance"] == before["worker-enhance"]
    assert requests.get(f"{stack.url}/", timeout=10).status_code in (200, 302)
    stack.wait_healthy(timeout=60)
    # The pool children the killed worker left behind did not linger as orphans.
    wait_until(
        lambda: (
            not [
                p
                for p in psutil.process_iter(["ppid", "cmdline"])
                if p.info["ppid"] == 1 and "-n default@" in " ".join(p.info["cmdline"] or [])
            ]
        ),
        timeout=30,
        what="the killed worker's pool children to exit",
    )
    log = stack.tail(20000)
    assert "exited: worker-default (terminated by SIGKILL" in log
    assert "exited: beat (terminated by SIGKILL" in log
