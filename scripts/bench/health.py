#!/usr/bin/env python3
"""Benchmark release-kit health against the curl retry loop of the popular health-check action.

Each case of the fault matrix is served by its own local fault server (tests/probes/fault_server.py)
on 127.0.0.1, once for each tool, all in the same run. Ours runs as the action runs it (a fresh
`release-kit health` process); the peer is the command line that action runs:
`curl --fail -sv --retry N --retry-delay D --retry-connrefused URL`, given the same time budget
(it is stopped at the deadline + 0.5 s, which counts as no verdict). Printed: each verdict and its
time, the false greens of each tool, and for the warm-up cases how long after
the first healthy moment ours saw a passing answer, and how long after that its verdict came.
Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/health.py [--deadline 8] [--ready-after 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.probes.fault_server import FaultServer, free_port, serve  # noqa: E402

# case -> (path on the fault server, the right verdict)
CASES = {
    "warm-up 404": ("/warmup-404", "pass"),
    "warm-up 503": ("/warmup-503", "pass"),
    "refused then ready": ("/ready", "pass"),
    "degraded": ("/degraded", "fail"),
    "mixed versions": ("/mixed", "fail"),
    "flapping": ("/flapping", "fail"),
    "10 s stall": ("/stall", "fail"),
    "redirect": ("/redirect", "fail"),
}
WARM_UPS = ("warm-up 404", "warm-up 503", "refused then ready")


@dataclass
class Run:
    verdict: str  # pass, fail or "no verdict"
    seconds: float
    first_ready: float | None = None  # when the server first answered ready to this tool


def ours(url: str, args: argparse.Namespace) -> Run:
    command = [
        sys.executable, "-m", "release_kit", "health", "--url", url,
        "--deadline", str(args.deadline), "--interval", str(args.interval), "--attempt-timeout", "1",
        "--consecutive", str(args.consecutive), "--expect-json", "status=ready", "--expect-version", "1.4.0",
    ]  # fmt: skip
    return timed(command, args.deadline + 5)


def curl(url: str, args: argparse.Namespace) -> Run:
    retries = max(1, int(args.deadline // args.interval))
    command = [
        "curl", "--fail", "-sv", "--retry", str(retries), "--retry-delay", str(int(args.interval)),
        "--retry-connrefused", "-o", "/dev/null", url,
    ]  # fmt: skip
    return timed(command, args.deadline + 0.5)


def timed(command: list[str], limit: float) -> Run:
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, timeout=limit, check=False, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return Run("no verdict", time.monotonic() - start)
    return Run("pass" if done.returncode == 0 else "fail", time.monotonic() - start)


def one(case: str, tool: str, args: argparse.Namespace, results: dict[tuple[str, str], Run]) -> None:
    path, _ = CASES[case]
    probe = ours if tool == "ours" else curl
    fault = FaultServer(ready_after=args.ready_after, stall=10.0)
    if case == "refused then ready":
        with serve(fault, port=free_port(), after=args.ready_after) as url:
            fault.reset()
            run = probe(url + path, args)
    else:
        with serve(fault) as url:
            fault.reset()
            run = probe(url + path, args)
    run.first_ready = fault.first_ready
    results[case, tool] = run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=8.0, help="seconds (default 8)")
    parser.add_argument("--interval", type=int, default=1, help="whole seconds: curl takes no fraction (default 1)")
    parser.add_argument("--consecutive", type=int, default=3)
    parser.add_argument("--ready-after", type=float, default=2.0, help="warm-up cases: seconds until ready")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names (default all)")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; cases: {', '.join(CASES)}")

    results: dict[tuple[str, str], Run] = {}
    for case in cases:  # one case at a time, both tools side by side (two cores: no contention skew)
        threads = [threading.Thread(target=one, args=(case, tool, args, results)) for tool in ("ours", "curl")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    print(f"deadline {args.deadline:g} s, interval {args.interval} s, {args.consecutive} in a row; "
          f"warm-ups ready after {args.ready_after:g} s")  # fmt: skip
    print(f"{'case':<22}{'right':<7}{'ours':<12}{'time':>7}   {'curl loop':<12}{'time':>7}")
    false_green = {"ours": 0, "curl": 0}
    false_red = {"ours": 0, "curl": 0}
    detect: list[float] = []
    confirm: list[float] = []
    for case in cases:
        right = CASES[case][1]
        row = f"{case:<22}{right:<7}"
        for tool in ("ours", "curl"):
            run = results[case, tool]
            if run.verdict == "pass" and right == "fail":
                false_green[tool] += 1
                mark = " FALSE GREEN"
            elif run.verdict != "pass" and right == "pass":
                false_red[tool] += 1
                mark = ""
            else:
                mark = ""
            row += f"{run.verdict + mark:<12}{run.seconds:>6.2f}s   "
        print(row.rstrip())
        run = results[case, "ours"]
        if case in WARM_UPS and run.verdict == "pass" and run.first_ready is not None:
            detect.append(run.first_ready - args.ready_after)
            confirm.append(run.seconds - run.first_ready)
    print(f"false greens: ours {false_green['ours']}, curl {false_green['curl']}")
    print(f"healthy deploys failed: ours {false_red['ours']}, curl {false_red['curl']}")
    if detect:
        print(f"warm-ups, first healthy moment to ours' first passing answer: at most {max(detect):.2f} s; "
              f"first passing answer to verdict: at most {max(confirm):.2f} s "
              f"(one interval = {args.interval} s)")  # fmt: skip
    slowest = max(results[c, "ours"].seconds for c in cases)
    print(f"ours, slowest verdict: {slowest:.2f} s (deadline {args.deadline:g} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
