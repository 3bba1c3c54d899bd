"""The CPU of whole requests through Django's WSGI handler, in this process (no HTTP, no gunicorn).

    .venv/bin/python bench/wsgi_requests.py [--repeat 1000] [--rounds 3] [--database-url URL]

The same data set and settings as bench/api.py (bench/api_server.py starts its
server for them, idle meanwhile). Each round times --repeat calls of the
trivial view, CheckUserProgress for one process and a page of 20, back to
back (CPU time, so the machine's other load disturbs it least): what the
middleware, DRF, authentication, queries, body and rendering cost without
gunicorn's share, which the trivial view's figure in bench/api.py includes.
Used to compare two trees of the code (docs/performance.md); not a test.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.api import parse_args as api_args
from bench.api_server import seed_processes, server

PROGRESS = "/api/v1/Image/FaceEnhancing/CheckUserProgress"


def _caller(user_id: str, process_id: str, headers: dict[str, str]) -> dict[str, Callable]:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    http_headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}

    def call(path: str, query: str) -> Callable[[], None]:
        def once() -> None:
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.errors": sys.stderr,
                **http_headers,
            }
            statuses: list[str] = []

            def start_response(
                status: str, headers: list[tuple[str, str]], exc_info: object = None
            ) -> Callable[[bytes], object]:
                statuses.append(status)
                return lambda data: None

            b"".join(application(environ, start_response))
            if not statuses[0].startswith("200"):
                raise RuntimeError(f"{path}?{query} answered {statuses[0]}")

        return once

    return {
        "trivial view": call("/bench/trivial", ""),
        "one process": call(PROGRESS, f"userId={user_id}&imageFaceEnhancerProcessId={process_id}"),
        "page of 20": call(PROGRESS, f"userId={user_id}"),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="default: the embedded broker")
    args = parser.parse_args(argv)
    urls = ["--database-url", args.database_url, "--redis-url", args.redis_url]
    with server(api_args(["--jobs", "0", *urls])) as srv:
        user_id, process_id = seed_processes(srv)
        calls = _caller(user_id, process_id, srv.headers)
        for once in calls.values():
            once()  # warm: imports, connections, caches
        for number in range(1, args.rounds + 1):
            cpu = {}
            for name, once in calls.items():
                start = time.process_time()
                for _ in range(args.repeat):
                    once()
                cpu[name] = (time.process_time() - start) / args.repeat * 1000
            print(
                f"round {number}: "
                + ", ".join(f"{name} {ms:.3f} ms" for name, ms in cpu.items())
                + " (CPU per request)",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
