#!/usr/bin/env python3
"""Benchmark verify-gates against a local fake GitHub with injected latency.

Runs the nine-gate runbook policy over real HTTP on 127.0.0.1, each request delayed by
--latency seconds, and prints the requests made, the wall time, the wall time divided
by one request's latency, and the ratio against the same check done one request at a
time (the peer, measured in the same run). Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/verify_gates.py [--latency 0.1] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request (default 0.1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant; the median is shown")
    args = parser.parse_args()

    fake = FakeGitHub(latency=args.latency)
    green_runbook(fake)
    with serve(fake) as url:
        ours = [one_check(url, workers=8) for _ in range(args.repeat)]
        peer = [one_check(url, workers=1) for _ in range(args.repeat)]
    wall = statistics.median(t for t, _ in ours)
    peer_wall = statistics.median(t for t, _ in peer)
    requests = ours[0][1]
    print(f"verify-gates, runbook policy (9 gates), latency {args.latency * 1000:.0f} ms per request")
    print(f"requests made:            {requests}")
    print(f"wall time (median of {args.repeat}):  {wall:.3f} s")
    print(f"wall time / latency:      {wall / args.latency:.1f}")
    print(f"one-at-a-time peer:       {peer_wall:.3f} s")
    print(f"ratio ours / peer:        {wall / peer_wall:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
