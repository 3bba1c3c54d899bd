"""A real redis-server process the tests own: started, stopped, killed, restarted.

The embedded broker of the test run (tests/embedded_broker.py) is one, and the
broker-restart and chaos tests start their own to restart it under load.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from config import embedded_redis


@dataclass
class RedisServer:
    """With `port`, a TCP server without persistence, like a production Redis run
    as a cache-style service (the CI machine's is one): a restart loses everything.
    Without, the embedded broker's kind: a unix socket and an append-only file."""

    folder: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def sock(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def log(self) -> Path:
        return self.folder / "redis.log"

    def broker_url(self, db: int = 0) -> str:
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/{db}"
        return embedded_redis.broker_url(self.sock, db)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = embedded_redis.server_command(self.sock, self.folder)
        if self.port is not None:
            command += ["--port", str(self.port), "--bind", "127.0.0.1", "--appendonly", "no"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        embedded_redis.wait_until_ready(self.sock)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> None:
        """SIGTERM: a clean shutdown that flushes the append-only file; SIGKILL: a crash."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wipe(self) -> None:
        """Forget everything, as a Redis restarted without persistence would."""
        for name in ("appendonly.aof", "dump.rdb"):
            (self.folder / name).unlink(missing_ok=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
