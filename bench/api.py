"""API benchmark: upload-to-Completed against the engine alone, CheckUserProgress under load.

    .venv/bin/python bench/api.py [--jobs 5] [--duration 5] [--rounds 10] [--write-docs]

Starts its own gunicorn (2 workers x 4 threads, as `make run`; --threads) and its own
`celery worker` on a temporary VAR_DIR (bench/api_server.py), so it never touches real data.

1. bench/upload_to_completed.py: a 1 MP one-face photo, the engine alone on it
   against upload -> Completed through the API (skipped with --jobs 0).
2. bench/wrk_rounds.py: CheckUserProgress (one process, and a full page of 20)
   under `wrk` against a trivial Django view in the same server, in --rounds
   rounds of the three; throughput and the workers' CPU per request. Many
   short rounds rather than a few long ones: a ratio compares runs seconds
   apart, and the median of ten shrugs off a round the machine disturbed.
3. bench/in_process.py: the CPU of each part of a page of 20, in this process.
4. bench/web_load.py on the same server: 200 pollers while the enhance worker
   is busy (at nice 0, then at nice 10), the refusal time of an image over
   the pixel limit, and the web's memory under 8 concurrent 40 MP uploads.

Not a test: figures depend on the machine and what else runs on it, so they are
printed (and with --write-docs recorded in docs/performance.md, bench/api_report.py),
never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench import api_report, upload_to_completed, web_load, wrk_rounds
from bench.api_server import seed_processes, server
from bench.in_process import request_parts


def run(args: argparse.Namespace | None = None) -> str:
    args = args or parse_args([])
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the load test: apt-get install -y wrk")
    photo = upload_to_completed.photo_1mp()
    load_average = os.getloadavg()[0]
    with server(args) as srv:
        engine, jobs = (
            upload_to_completed.engine_against_api(srv, photo, args.jobs) if args.jobs else ([], [])
        )
        user_id, process_id = seed_processes(srv)
        rounds = wrk_rounds.rounds(srv, user_id, process_id, args)
        parts = request_parts(srv, user_id)
        progress = (
            f"{srv.base}/api/v1/Image/FaceEnhancing/CheckUserProgress"
            f"?userId={user_id}&imageFaceEnhancerProcessId={process_id}"
        )
        under_load = web_load.measure(srv, photo, progress, args)
    lines = api_report.header(args, load_average)
    if jobs:
        lines += upload_to_completed.render(engine, jobs)
    lines += wrk_rounds.render(rounds, args)
    lines += api_report.parts_lines(parts)
    lines += web_load.render(under_load, args)
    report = "\n".join(lines)
    report += f"\nLoad average (1 min) when the run ended: {os.getloadavg()[0]:.1f}.\n"
    print(report)
    if args.write_docs:
        api_report.write_docs(report)
    return report


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5, help="measured upload runs")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of the three wrk runs")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="default: the embedded broker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary VAR_DIR")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
