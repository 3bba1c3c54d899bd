"""CheckUserProgress under `wrk`, against a trivial Django view in the same server and rounds.

Each round runs the trivial view, one process and a page of 20 back to back.
Two measures per run:

- throughput (wrk's requests/s): what the targets are stated in, but on a
  shared machine it swings by 10x between rounds with the neighbours' load;
- CPU per request: the CPU seconds gunicorn's workers used during the run
  (utime + stime in /proc/<pid>/stat of the master's children) over the
  requests wrk counted. The neighbours take cores away, which lowers
  throughput, but hardly change what one request costs. For a server that is
  CPU-bound at saturation the throughput ratio is the inverse of the CPU
  ratio, so `trivial CPU / endpoint CPU` is the share the endpoint would get
  on a machine of its own (wrk's own CPU aside).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.api_server import Server, process_tree

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ONE_PROCESS_TARGET = 0.30
PAGE_TARGET = 0.10


@dataclass
class Load:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float | None = None  # gunicorn workers' CPU per request
    steal: float = 0.0  # share of the machine's CPU time the hypervisor took during the run


def cpu_times() -> list[int]:
    """The machine's CPU time so far, in ticks, by kind (the `cpu` line of /proc/stat)."""
    with open("/proc/stat") as stat:
        return [int(n) for n in stat.readline().split()[1:]]


def steal_share(before: list[int], after: list[int]) -> float:
    """Of the CPU time between two cpu_times(), the share stolen (the 8th field).

    On a virtual machine whose host is busy, every process here, the trivial
    view's server too, gets less done per CPU second it is charged; runs with
    steal are the ones whose CPU per request jumps for no reason of their own.
    """
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / max(sum(spent[:8]), 1)


def workers_cpu_seconds(web_pid: int) -> dict[int, float]:
    """utime + stime of each of gunicorn's workers (the master's descendants)."""
    seconds = {}
    for pid in process_tree(web_pid):
        if pid == web_pid:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def _cpu_ms_per_request(before: dict[int, float], after: dict[int, float], count: int) -> float:
    # A worker that appeared during the run counts from zero; one that left is lost
    # (gunicorn restarts a worker only when it dies: none should).
    used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return used / max(count, 1) * 1000


def wrk(
    name: str,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    connections: int | None = None,
    web_pid: int = 0,
) -> Load:
    """One wrk run; with web_pid, gunicorn's CPU per request too."""
    header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
    connections = connections or args.connections
    before = workers_cpu_seconds(web_pid) if web_pid else {}
    machine_before = cpu_times()
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{args.duration}s",
            # Past wrk's 2 s default a slow answer would count as an error and
            # leave the latencies: keep it, p99 shows it.
            "--timeout",
            "10s",
            "--latency",
            *header_args,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    after = workers_cpu_seconds(web_pid) if web_pid else {}
    steal = steal_share(machine_before, cpu_times())
    rps = float(_found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(_found(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(errors.group(1)) if errors else 0) + (
        sum(int(n) for n in socket.groups()) if socket else 0
    )
    cpu_ms = _cpu_ms_per_request(before, after, count) if web_pid else None
    return Load(name, rps, _latency(out, "50%"), _latency(out, "99%"), failed, cpu_ms, steal)


def _found(pattern: str, out: str) -> re.Match[str]:
    """The line of wrk's output that `pattern` reads; wrk always prints it."""
    match = re.search(pattern, out)
    if match is None:
        raise RuntimeError(f"wrk printed nothing matching {pattern!r}:\n{out}")
    return match


def _latency(out: str, percentile: str) -> float:
    value, unit = _found(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@dataclass
class Round:
    load_average: float  # 1 min, when the round started
    loads: list[Load]  # trivial view, one process, page of 20

    def ratio(self, index: int) -> float:
        """Throughput of loads[index] over the trivial view's."""
        return self.loads[index].requests_per_second / self.loads[0].requests_per_second

    def cpu_ms(self, index: int) -> float:
        """loads[index]'s CPU per request (rounds() runs every load with web_pid)."""
        cpu_ms = self.loads[index].cpu_ms
        if cpu_ms is None:
            raise ValueError(f"{self.loads[index].name} was run without web_pid")
        return cpu_ms

    def cpu_ratio(self, index: int) -> float:
        """The trivial view's CPU per request over loads[index]'s: the share by CPU cost."""
        return self.cpu_ms(0) / self.cpu_ms(index)


def rounds(srv: Server, user_id: str, process_id: str, args: argparse.Namespace) -> list[Round]:
    progress = f"{srv.base}/api/v1/Image/FaceEnhancing/CheckUserProgress?userId={user_id}"
    done = []
    for _ in range(args.rounds):
        # The three back to back, each round: the machine is shared, so
        # only ratios within a round compare.
        load_average = os.getloadavg()[0]
        runs = [
            ("trivial Django view", f"{srv.base}/bench/trivial", {}),
            (
                "CheckUserProgress, one process",
                f"{progress}&imageFaceEnhancerProcessId={process_id}",
                srv.headers,
            ),
            ("CheckUserProgress, page of 20", progress, srv.headers),
        ]
        loads = [wrk(*run, args, web_pid=srv.web_pid) for run in runs]
        done.append(Round(load_average, loads))
    return done


def _verdict(share: float, target: float) -> str:
    return "met" if share >= target else "missed"


def render(done: list[Round], args: argparse.Namespace) -> list[str]:
    lines = [
        "### CheckUserProgress under load",
        "",
        f"`wrk -t2 -c{args.connections} -d{args.duration}s --latency` on the same 2 cores as "
        "the server (wrk's own CPU use included). Every request authenticates (bearer token, "
        "key and secret); the data set is 500 completed processes of 25 users. CPU per "
        "request: the CPU seconds gunicorn's workers used during the run (utime + stime from "
        "/proc) over the requests wrk counted; its share is the trivial view's CPU per "
        "request over the endpoint's.",
        "",
        "| round (load avg) | endpoint | requests/s | of the trivial view | CPU per request "
        "| share by CPU | p50 | p99 | errors | steal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, one_round in enumerate(done, 1):
        for index, item in enumerate(one_round.loads):
            share = f"{one_round.ratio(index):.0%}" if index else ""
            cpu_share = f"{one_round.cpu_ratio(index):.0%}" if index else ""
            lines.append(
                f"| {number} ({one_round.load_average:.1f}) | {item.name} "
                f"| {item.requests_per_second:.0f} | {share} | {one_round.cpu_ms(index):.2f} ms "
                f"| {cpu_share} | {item.p50_ms:.1f} ms | {item.p99_ms:.1f} ms | {item.errors} "
                f"| {item.steal:.0%} |"
            )
    one = statistics.median(r.ratio(1) for r in done)
    page = statistics.median(r.ratio(2) for r in done)
    one_cpu = statistics.median(r.cpu_ratio(1) for r in done)
    page_cpu = statistics.median(r.cpu_ratio(2) for r in done)
    lines += [
        "",
        f"Median over the {len(done)} rounds, throughput: one process **{one:.0%}** of the "
        f"trivial view (target 30%: {_verdict(one, ONE_PROCESS_TARGET)}), a page of 20 "
        f"**{page:.0%}** (target 10%: {_verdict(page, PAGE_TARGET)}).",
        f"By CPU per request: one process **{one_cpu:.0%}** "
        f"({_verdict(one_cpu, ONE_PROCESS_TARGET)}), a page of 20 **{page_cpu:.0%}** "
        f"({_verdict(page_cpu, PAGE_TARGET)}); the trivial view cost "
        f"{statistics.median(r.cpu_ms(0) for r in done):.2f} ms, one process "
        f"{statistics.median(r.cpu_ms(1) for r in done):.2f} ms, a page of 20 "
        f"{statistics.median(r.cpu_ms(2) for r in done):.2f} ms (medians).",
        "",
    ]
    return lines
