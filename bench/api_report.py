"""The `## API` section of docs/performance.md: written from a bench/api.py run."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from bench.api_server import ROOT

DOCS = ROOT / "docs" / "performance.md"


def header(args: argparse.Namespace, load_average: float) -> list[str]:
    database = "PostgreSQL" if args.database_url else "SQLite"
    broker = "Redis" if args.redis_url else "the embedded Redis"
    return [
        "## API",
        "",
        f"Measured with `bench/api.py` on {os.cpu_count()} cores ({database}, {broker}; "
        f"load average {load_average:.1f} when it started), gunicorn 2 workers x "
        f"{args.threads} threads and one `celery worker -c 1` on the same machine. "
        "Reproduce with:",
        "",
        # The command of this run, as it was given.
        "  " + shlex.join([".venv/bin/python", "bench/api.py", *sys.argv[1:]]),
        "",
    ]


def parts_lines(parts: dict[str, float]) -> list[str]:
    return [
        "Where a page of 20 spends its CPU, timed in the benchmark's own process (one "
        "call at a time, no HTTP; CPU time, the mean of 200 calls):",
        "",
        "| part | per request |",
        "| --- | --- |",
        *(f"| {name} | {ms:.2f} ms |" for name, ms in parts.items()),
        "",
        "The rest of a request's CPU is gunicorn's (its event loop hands each request to a "
        "thread), Django's middleware and DRF's dispatch; figures from a shared machine vary "
        "from run to run, so compare rows of the same run.",
        "",
    ]


def write_docs(report: str, docs: Path = DOCS) -> None:
    """Replace (or append) the `## API` section of docs/performance.md, and only it."""
    text = docs.read_text() if docs.exists() else "# Performance\n"
    start = text.find("\n## API\n")
    if start != -1:
        after = text.find("\n## ", start + 1)
        rest = text[after:] if after != -1 else ""
        text = text[:start].rstrip("\n") + "\n\n" + report.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + report.rstrip("\n") + "\n"
    docs.write_text(text)
