"""`make run`'s process supervisor: supervisord with the stack's programs.

    python -m config.supervisor          # what bin/run execs
    python -m config.supervisor --check-port   # exits 1 if another server has $PORT

Writes var/run/supervisord.conf for this environment and replaces itself with
supervisord (in the foreground). Programs:

  redis            the embedded broker (only without REDIS_URL; config/embedded_redis.py)
  web              gunicorn
  worker-enhance   Celery, the CPU-heavy image work (`enhance` queue)
  worker-default   Celery, I/O: API calls, downloads, webhooks, sweeps (`default` queue)
  beat             Celery's scheduler, its own process so that no worker takes it down

Why supervisord (a well-kept supervisor, pinned in requirements.txt) rather
than a shell script: a program that dies is restarted, with a delay that grows
while it keeps dying at start, and its log says why; the site does not stop
because one part crashed. Each program runs in a process group of its own, so
Ctrl-C or a SIGTERM sent to `make run`'s whole process group reaches only
supervisord, which stops each program through its main process: a Celery
worker then stops its pool children itself (a signal sent to the children
directly leaves billiard's pool waiting for them forever). Only after a
program's grace period is its whole group killed.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from config import embedded_redis

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    # Started in ascending order and stopped in descending order: the broker
    # first up and last down.
    priority: int
    # Seconds between the stop signal and SIGKILL to the program's group.
    stop_grace: int


# The enhance worker's command prefix: `nice` execs celery, so the worker is
# still the program's main process and gets supervisord's signals itself.
ENHANCE_NICE = ["nice", "-n", "10"]


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None


def web_command(python: str, port: str, *, threads: int = 4, access_log: bool = True) -> list[str]:
    """gunicorn as `make run` serves (bench/api_server.py measures the same, less the log)."""
    return [
        python, "-m", "gunicorn", "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", "2", "--threads", str(threads),
        # A socket per worker, between which the kernel spreads new connections.
        # On one shared socket a worker could take every connection of a
        # burst: in 1 of 12 runs of 16 clients the other worker served none,
        # half the machine idle (docs/performance.md). config.supervisor
        # checks first that no other server has the port.
        "--reuse-port",
        *(["--access-logfile", "-"] if access_log else ["--log-level", "warning"]),
        "--graceful-timeout", "10",
        # Longer than a 1-2 s polling client's pause: gunicorn's 2 s
        # default closes kept-alive connections just as such clients
        # send their next request on them (a reset they see as an error).
        "--keep-alive", "5",
        # gunicorn 27's control socket defaults to one path per user
        # (~/.gunicorn/): two stacks on one machine would share it.
        "--no-control-socket",
        # Over-long request lines and header fields reach Django, which
        # answers them as problem details (enhancer/api/request_limits.py);
        # gunicorn's own refusal is an HTML page. 0 = gunicorn's 1 MiB cap.
        "--limit-request-line", "0",
        "--limit-request-field_size", "65536",
    ]  # fmt: skip


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port`: a bind without SO_REUSEPORT fails on any
    listening socket there (with --reuse-port, two servers could share the port).
    SO_REUSEADDR, as gunicorn's own: the closed connections of a server just
    stopped (TIME_WAIT) do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def programs(var_dir: Path) -> list[Program]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "config"]
    worker_flags = ["-l", "info", "--without-gossip", "--without-mingle"]
    # A running enhancement may finish within this (Celery's warm shutdown);
    # past it the worker and its pool are killed and the task goes back to
    # the queue (acks_late), to be run again after the restart.
    worker_grace = _int_env("WORKER_STOP_GRACE", 60)
    stack = []
    if not os.environ.get("REDIS_URL"):
        data = var_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        sock = Path(os.environ.get("EMBEDDED_REDIS_SOCKET") or embedded_redis.socket_path(var_dir))
        stack.append(Program("redis", embedded_redis.server_command(sock, data), 10, 30))
    port = os.environ.get("PORT", "8000")
    stack += [
        Program("web", web_command(python, port), 20, 15),
        Program(
            "worker-enhance",
            [
                # The engine takes every core it is given; at a lower CPU
                # priority it still does when the web is idle, but a progress
                # read no longer waits behind it (docs/performance.md).
                *ENHANCE_NICE, *celery, "worker", "-Q", "enhance",
                "-c", os.environ.get("ENHANCE_CONCURRENCY", "1"), "-n", "enhance@%h",
                *worker_flags,
            ],
            30,
            worker_grace,
        ),
        Program(
            "worker-default",
            [
                *celery, "worker", "-Q", "default",
                "-c", os.environ.get("DEFAULT_CONCURRENCY", "2"), "-n", "default@%h",
                *worker_flags,
            ],
            30,
            worker_grace,
        ),
        Program(
            "beat",
            [*celery, "beat", "-l", "info", "-s", str(var_dir / "celerybeat-schedule")],
            40,
            10,
        ),
    ]  # fmt: skip
    return stack


def _quote(argument: str) -> str:
    # supervisord splits a command with shlex and expands %(name)s in it.
    escaped = argument.replace("%", "%%")
    if not escaped or any(c in escaped for c in " \t'\"\\"):
        escaped = '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def config_text(var_dir: Path) -> str:
    run_dir = var_dir / "run"
    sections = [
        f"""[supervisord]
nodaemon=true
; In the foreground supervisord prints its log to the terminal itself: a log
; file as well would print every line twice.
logfile=/dev/null
logfile_maxbytes=0
loglevel=info
pidfile={run_dir / "supervisord.pid"}
directory={ROOT}
; SIGTERM to supervisord stops every program before it exits.

[unix_http_server]
file={run_dir / "supervisor.sock"}
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run_dir / "supervisor.sock"}
"""
    ]
    for program in programs(var_dir):
        sections.append(
            f"""[program:{program.name}]
command={" ".join(_quote(a) for a in program.command)}
directory={ROOT}
priority={program.priority}
autostart=true
autorestart=true
; Running this long counts as started; dying sooner is retried with a delay
; that grows by a second each time (supervisord's backoff), up to startretries.
startsecs=5
startretries=100
stopsignal=TERM
stopwaitsecs={program.stop_grace}
; The stop signal goes to the main process only (it stops its children);
; SIGKILL after the grace goes to the whole group, so nothing is left behind.
stopasgroup=false
killasgroup=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""
        )
    return "\n".join(sections)


def refuse_a_port_in_use() -> None:
    port = _int_env("PORT", 8000)
    if not port_is_free(port):
        raise SystemExit(
            f"Port {port} is in use (another `make run`?): stop that server or start "
            f"this one with another port, for example `PORT={port + 1} make run`."
        )


def main() -> None:
    refuse_a_port_in_use()
    if sys.argv[1:] == ["--check-port"]:  # bin/run, before it starts anything
        return
    var_dir = Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()
    run_dir = var_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "supervisord.conf"
    conf.write_text(config_text(var_dir))
    supervisord = shutil.which("supervisord", path=str(Path(sys.executable).parent))
    if supervisord is None:
        raise SystemExit("supervisord is not installed: run `make install`")
    print(f"Serving on http://127.0.0.1:{os.environ.get('PORT', '8000')}/ (health: /healthz).")
    print("Ctrl-C stops everything. Status: .venv/bin/supervisorctl -c", conf, "status")
    sys.stdout.flush()
    # Replace this process: signals sent to bin/run reach supervisord itself.
    os.execv(supervisord, [supervisord, "-c", str(conf)])  # noqa: S606 (a fixed path, no shell)


if __name__ == "__main__":
    main()
