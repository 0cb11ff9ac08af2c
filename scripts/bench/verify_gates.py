#!/usr/bin/env python3
"""Benchmark verify-gates against a local fake GitHub with injected latency.

Runs the nine-gate runbook policy over real HTTP on 127.0.0.1, each request delayed by
--latency seconds, and prints the requests made, the wall time, the wall time divided
by one request's latency, and the ratio against the same check done one request at a
time (the peer, measured in the same run). Then the same check as a whole ``release-kit
verify-gates`` process (interpreter start-up and imports included, what a user waits for), the
in-process check as its peer, and ``release-kit --help`` as a whole process. With
``--action-venv`` the processes run from the environment scripts/bootstrap makes for the action
(no dev tools, bytecode compiled); else from this interpreter. Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/verify_gates.py [--latency 0.1] [--repeat 5] [--action-venv]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from datetime import UTC, datetime  # noqa: E402

from tests.fakes.github import FakeGitHub, green_runbook, serve  # noqa: E402

from release_kit.gates.fetch import EvidenceFetcher  # noqa: E402
from release_kit.gates.judge import judge  # noqa: E402
from release_kit.gates.models import Verdict  # noqa: E402
from release_kit.gates.policy import runbook_policy  # noqa: E402
from release_kit.github.client import GitHubClient, parse_repo  # noqa: E402


def one_check(url: str, workers: int) -> tuple[float, int]:
    """The whole check (fetch + judge) with ``workers`` requests in flight at most."""
    policy = runbook_policy()
    with GitHubClient(token="bench", api_url=url) as gh:
        fetcher = EvidenceFetcher(gh, parse_repo("octo-org/app"), workers=workers)
        start = time.perf_counter()
        evidence = fetcher.fetch(policy, "v1.4.0")
        results = judge(policy, evidence, datetime.now(UTC))
        elapsed = time.perf_counter() - start
        fetcher.close()
    if any(r.verdict is not Verdict.PASS for r in results):
        raise SystemExit("the check did not pass")
    return elapsed, gh.requests


def release_kit_command(action_venv: bool) -> list[str]:
    """How to start release-kit: bootstrap's environment for the action, else this interpreter."""
    if not action_venv:
        return [sys.executable, "-m", "release_kit"]
    done = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap")], capture_output=True, text=True, check=True)
    return [str(Path(done.stdout.strip().splitlines()[-1]) / "release-kit")]


def whole_process(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one ``release-kit`` process, start-up included; it must exit 0."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request (default 0.1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant; the median is shown")
    parser.add_argument(
        "--action-venv", action="store_true", help="time processes from scripts/bootstrap's environment"
    )
    args = parser.parse_args()
    release_kit = release_kit_command(args.action_venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RK_"))}

    fake = FakeGitHub(latency=args.latency)
    green_runbook(fake)
    with serve(fake) as url:
        ours = [one_check(url, workers=8) for _ in range(args.repeat)]
        peer = [one_check(url, workers=1) for _ in range(args.repeat)]
        env.update(GITHUB_API_URL=url, GITHUB_TOKEN="bench")
        gates = [*release_kit, "verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"]
        process = [whole_process(gates, env) for _ in range(args.repeat)]
    helps = [whole_process([*release_kit, "--help"], env) for _ in range(args.repeat)]
    wall = statistics.median(t for t, _ in ours)
    peer_wall = statistics.median(t for t, _ in peer)
    requests = ours[0][1]
    print(f"verify-gates, runbook policy (9 gates), latency {args.latency * 1000:.0f} ms per request")
    print(f"requests made:            {requests}")
    print(f"wall time (median of {args.repeat}):  {wall:.3f} s")
    print(f"wall time / latency:      {wall / args.latency:.1f}")
    print(f"one-at-a-time peer:       {peer_wall:.3f} s")
    print(f"ratio ours / peer:        {wall / peer_wall:.2f}")
    print(f"whole process ({'action venv' if args.action_venv else 'this interpreter'}):")
    print(f"  verify-gates:           {statistics.median(process):.3f} s (target < 1.0 s at 100 ms per request)")
    print(f"  start-up over the check: {statistics.median(process) - wall:.3f} s")
    print(f"  release-kit --help:     {statistics.median(helps):.3f} s (target < 0.15 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
