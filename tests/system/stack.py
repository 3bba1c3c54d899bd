"""The product as `make run` starts it, for the system tests.

A `Stack` is `make run` in a process group of its own (as a terminal runs it),
on its own VAR_DIR (SQLite, media, embedded Redis, supervisord's files) and
port. In the PostgreSQL + Redis configuration of the suite it gets a database
of its own on the same PostgreSQL server and a Redis of its own (a real
redis-server without persistence, the way the CI machine's Redis runs), so that
the tests can restart its broker without touching anyone else's.

Everything is observed from outside, as an operator would: HTTP through the
port, `supervisorctl` for the programs, `manage.py shell` for the database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

from tests.conftest import ROOT, wait_until
from tests.redis_server import RedisServer

PYTHON = ROOT / ".venv" / "bin" / "python"
SUPERVISORCTL = ROOT / ".venv" / "bin" / "supervisorctl"
PROGRAMS_EMBEDDED = ("redis", "web", "worker-enhance", "worker-default", "beat")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _own_postgres_database(url: str) -> tuple[str, str]:
    """A new, empty database on the server of `url`: (its URL, its name)."""
    import psycopg

    name = f"fe_system_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_postgres_database(url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    var_dir: Path
    port: int
    env: dict[str, str]
    external_redis: RedisServer | None = None
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    _pids: set[int] = field(default_factory=set)
    _database: tuple[str, str] | None = None

    @classmethod
    def create(cls, **env: str) -> Stack:
        """A stack on the configuration the suite runs on (its environment)."""
        # Under /tmp: the embedded Redis's unix socket path must stay short.
        var_dir = Path(tempfile.mkdtemp(prefix="fe-system-"))
        port = free_port()
        # As a person's shell would start it: not as a sub-make of `make test`.
        skip = ("PYTEST", "DJANGO_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
        base = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        # The test run's own embedded Redis is not the stack's.
        base.pop("EMBEDDED_REDIS_SOCKET", None)
        # The suite allows loopback webhooks for its own receivers; `make run` opens only its
        # own port (bin/run), and that is what a stack must prove enough.
        base.pop("NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK", None)
        base.update(VAR_DIR=str(var_dir), PORT=str(port), PYTHONUNBUFFERED="1", **env)
        stack = cls(var_dir=var_dir, port=port, env=base)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith("postgres"):
            stack._database = _own_postgres_database(database_url)
            base["DATABASE_URL"] = stack._database[0]
        if os.environ.get("REDIS_URL"):
            stack.external_redis = RedisServer(var_dir / "external-redis", port=free_port())
            stack.external_redis.start()
            base["REDIS_URL"] = stack.external_redis.broker_url()
        return stack

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def programs(self) -> tuple[str, ...]:
        names = PROGRAMS_EMBEDDED
        return names[1:] if self.external_redis else names

    # --- Life cycle -------------------------------------------------------------

    def start(self, timeout: float = 240) -> None:
        """`make run`, then wait until /healthz says every part works."""
        self.log = self.var_dir / "make-run.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, as in a terminal
            )
        self.wait_healthy(timeout)
        # Past supervisord's startsecs every program counts as RUNNING.
        wait_until(
            lambda: all(self.program_pids().get(name) for name in self.programs),
            timeout=60,
            what="every program to be RUNNING",
            every=0.5,
        )
        self.remember_processes()

    def wait_healthy(self, timeout: float = 120) -> None:
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"make run exited ({self.process.returncode}):\n{self.tail()}")
            try:
                return requests.get(f"{self.url}/healthz", timeout=10).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout=timeout, what=f"{self.url}/healthz to answer 200", every=0.5)

    def remember_processes(self) -> None:
        """Note every process of the stack now, to check later that none is left."""
        assert self.process is not None
        try:
            self._pids |= {self.process.pid} | {
                p.pid for p in psutil.Process(self.process.pid).children(recursive=True)
            }
        except psutil.NoSuchProcess:
            pass

    def alive(self) -> list[str]:
        """The processes of the stack still running (zombies count as gone)."""
        left = []
        for pid in sorted(self._pids):
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{pid} {' '.join(p.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
        return left

    def stop(
        self, sig: signal.Signals = signal.SIGTERM, *, group: bool = True, timeout: float = 30
    ) -> float:
        """Send `sig` to make run's process group (or to supervisord alone, which is
        what bin/run execs); the seconds until every process of the stack is gone."""
        assert self.process is not None
        self.remember_processes()
        began = time.monotonic()
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.pid_of_supervisord()  # fails clearly if there is none
            os.kill(self.pid_of_supervisord(), sig)
        wait_until(lambda: not self.alive(), timeout=timeout, what="every process to stop")
        self.process.wait(5)
        return time.monotonic() - began

    def destroy(self) -> None:
        """Teardown: whatever state the test left, nothing survives it."""
        if self.process is not None and self.process.poll() is None:
            self.remember_processes()
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                wait_until(lambda: not self.alive(), timeout=90, what="the stack to stop")
            except AssertionError:
                pass
        for line in self.alive():
            os.kill(int(line.split()[0]), signal.SIGKILL)
        if self.external_redis is not None:
            self.external_redis.stop()
        if self._database is not None:
            _drop_postgres_database(os.environ["DATABASE_URL"], self._database[1])
        shutil.rmtree(self.var_dir, ignore_errors=True)

    # --- Looking inside, as an operator ---------------------------------------------

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def supervisorctl(self, *args: str) -> str:
        conf = self.var_dir / "run" / "supervisord.conf"
        result = subprocess.run(
            [str(SUPERVISORCTL), "-c", str(conf), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout

    def program_pids(self) -> dict[str, int]:
        """The main process of each supervised program (0 when it is not running)."""
        pids = {}
        for line in self.supervisorctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "RUNNING":
                pids[parts[0]] = int(parts[3].rstrip(","))
            elif parts:
                pids[parts[0]] = 0
        return pids

    def pid_of_supervisord(self) -> int:
        return int((self.var_dir / "run" / "supervisord.pid").read_text())

    def pool_children(self, program: str) -> list[int]:
        pid = self.program_pids()[program]
        return [c.pid for c in psutil.Process(pid).children()] if pid else []

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}"
        return result.stdout

    def query(self, code: str) -> object:
        """Run Python in `manage.py shell` against the stack's database; the JSON it prints."""
        out = self.manage("shell", "-c", textwrap.dedent(code))
        return json.loads(out.strip().splitlines()[-1])

    def restart_broker(self, downtime: float = 10.0) -> None:
        """Stop the broker, wait `downtime`, start it again (what an operator's restart
        or a crash and respawn looks like to the workers)."""
        if self.external_redis is not None:
            # Like `redis-cli shutdown nosave` on a Redis without persistence.
            self.external_redis.stop(signal.SIGKILL)
            self.external_redis.wipe()
            time.sleep(downtime)
            self.external_redis.start()
        else:
            self.supervisorctl("stop", "redis")
            time.sleep(downtime)
            self.supervisorctl("start", "redis")
