#!/usr/bin/env python3
"""Benchmark last-good against a local fake GitHub with injected latency.

An environment with --deployments deployments (default 250), newest first: a failed
release-kit deploy, then for every five older ones three from ``environment:`` jobs, one
release-kit record whose smoke check failed and one whose deploy failed, and the only good
record at the very bottom. Served over real HTTP on 127.0.0.1, each request delayed by
--latency seconds. Ours (search_last_good) is timed against the naive peer in the same run:
list every deployment of the environment, then read each one's statuses one request at a
time, as a shell loop over ``gh api`` does. Both must find the same deployment. The fake's
sockets have Nagle's algorithm off, as production servers do, so a request costs the injected
latency rather than a 40 ms delayed ACK (which would flatter ours). Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/last_good.py [--latency 0.1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.github import FakeGitHub, serve  # noqa: E402
from tests.records.conftest import payload  # noqa: E402

from release_kit.github.client import GitHubClient, RepoName  # noqa: E402
from release_kit.records.deployments import search_last_good  # noqa: E402
from release_kit.records.payload import TASK, parse_payload, succeeded  # noqa: E402

REPO = RepoName("octo-org", "app")


def history(fake: FakeGitHub, count: int) -> int:
    """Fill the environment, oldest first; returns the good deployment's id."""
    good = fake.add_deployment("v1.0.0", task=TASK, payload=payload("v1.0.0"))
    fake.add_deployment_status(good, "success")
    for i in range(count - 2):
        version = f"v1.1.{i}"
        if i % 5 < 3:
            fake.add_deployment("main", task="deploy", payload={})  # an `environment:` job
            fake.add_deployment_status(fake.deployments[-1], "success")
        elif i % 5 == 3:
            fake.add_deployment(
                version, task=TASK, payload=payload(version, checks={"health": "pass", "smoke": "fail"})
            )
            fake.add_deployment_status(fake.deployments[-1], "success")
        else:
            fake.add_deployment(version, task=TASK, payload=payload(version))
            fake.add_deployment_status(fake.deployments[-1], "failure")
    fake.add_deployment("v1.2.0", task=TASK, payload=payload("v1.2.0"))
    fake.add_deployment_status(fake.deployments[-1], "failure")
    return int(good["id"])


def ours(url: str) -> tuple[float, int, int | None]:
    with GitHubClient(token="bench", api_url=url) as gh:
        start = time.perf_counter()
        found = search_last_good(gh, REPO, "production").found
        return time.perf_counter() - start, gh.requests, found.deployment_id if found else None


def peer(url: str) -> tuple[float, int, int | None]:
    """gh api --paginate .../deployments?environment=...; then gh api .../statuses for each, in turn."""
    with GitHubClient(token="bench", api_url=url) as gh:
        start = time.perf_counter()
        deployments = list(gh.paginate(f"/repos/{REPO}/deployments", {"environment": "production"}))
        newest_images = None
        answer = None
        for dep in deployments:
            states = [s["state"] for s in gh.get_json(f"/repos/{REPO}/deployments/{dep['id']}/statuses")]
            ours_payload = parse_payload(dep["payload"]) if dep["task"] == TASK else None
            if ours_payload is None:
                continue
            if newest_images is None:
                newest_images = ours_payload.images
                continue
            good = succeeded(states) and ours_payload.checks_passed and ours_payload.images != newest_images
            if answer is None and good:
                answer = dep["id"]
        return time.perf_counter() - start, gh.requests, answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request (default 0.1)")
    parser.add_argument("--deployments", type=int, default=250, help="deployments in the environment (default 250)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant; the median is shown")
    args = parser.parse_args()

    fake = FakeGitHub(latency=args.latency)
    good = history(fake, args.deployments)
    with serve(fake) as url:
        mine = [ours(url) for _ in range(args.repeat)]
        theirs = [peer(url) for _ in range(args.repeat)]
    if {r[2] for r in mine + theirs} != {good}:
        raise SystemExit(f"wrong answer: expected deployment {good}, got {sorted({r[2] for r in mine + theirs})}")
    wall, peer_wall = statistics.median(r[0] for r in mine), statistics.median(r[0] for r in theirs)
    print(
        f"last-good over {args.deployments} deployments (the good one the oldest), "
        f"latency {args.latency * 1000:.0f} ms per request, medians of {args.repeat}"
    )
    print(f"requests made:            {mine[0][1]}")
    print(f"wall time:                {wall:.3f} s")
    print(f"peer requests:            {theirs[0][1]}")
    print(f"peer wall time:           {peer_wall:.3f} s")
    print(f"ratio ours / peer:        {wall / peer_wall:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
