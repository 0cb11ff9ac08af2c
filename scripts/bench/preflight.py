#!/usr/bin/env python3
"""Benchmark preflight on ECS against moto on 127.0.0.1 behind a proxy that adds latency per request.

Builds api + web + worker, one RDS instance and one ElastiCache replication group in moto's
server, then runs the whole preflight (gather + checks) through a proxy adding --latency seconds
to every request, and prints the cloud calls made and the wall time, next to the same checks
made one call at a time (the peer, measured in the same run). Run from the repository root:

    uv run --frozen --extra dev --extra aws python scripts/bench/preflight.py [--latency 0.05] [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.aws_proxy import serve_proxy  # noqa: E402
from tests.fakes.ecs_world import CONFIG, EcsWorld, build, moto_server  # noqa: E402

from release_kit import config  # noqa: E402
from release_kit.preflight.checks import Verdict, judge  # noqa: E402
from release_kit.preflight.run import collect  # noqa: E402


def one_check(workers: int) -> tuple[float, int]:
    settings = config.parse(CONFIG, "bench.yml").deploy
    assert settings is not None
    start = time.perf_counter()
    facts, calls = collect(settings, task_definitions={}, app_files={}, workers=workers)
    rows = judge(settings, facts, datetime.now(UTC))
    elapsed = time.perf_counter() - start
    bad = [r for r in rows if r.verdict is not Verdict.PASS]
    if bad:
        raise SystemExit(f"the check did not pass: {bad}")
    return elapsed, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request (default 0.05)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant; the median is shown")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    with moto_server() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        build(EcsWorld())
        with serve_proxy(url, latency=args.latency) as proxy:
            os.environ["AWS_ENDPOINT_URL"] = proxy.url
            one_check(workers=8)  # warm-up: imports and service models, as a real run pays once
            proxy.operations.clear()
            ours = [one_check(workers=8) for _ in range(args.repeat)]
            ours_requests = len(proxy.operations) // args.repeat
            peer = [one_check(workers=1) for _ in range(args.repeat)]
    wall = statistics.median(t for t, _ in ours)
    peer_wall = statistics.median(t for t, _ in peer)
    calls = ours[0][1]
    print(
        f"preflight ecs: api + web + worker, one database, one Redis; latency {args.latency * 1000:.0f} ms per request"
    )
    print(f"cloud calls made:           {calls} (requests seen by the proxy: {ours_requests})")
    print(f"wall time (median of {args.repeat}):    {wall:.3f} s")
    print(f"one-call-at-a-time peer:    {peer_wall:.3f} s ({peer[0][1]} calls)")
    print(f"ratio ours / peer:          {wall / peer_wall:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
