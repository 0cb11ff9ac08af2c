#!/usr/bin/env python3
"""Benchmark deploy on ECS against moto behind a latency proxy, next to the SDK's services_stable waiter.

An api+web rollout through moto's server, each request delayed by --latency seconds by a proxy on
127.0.0.1. A background thread plays ECS (tests/fakes/ecs_rollout.py): it starts the deployment the
moment UpdateService lands and completes it --complete-after seconds later. Printed: the calls made
and the time from each deployment completing to the verdict, for release-kit and for the peer (boto3's
``services_stable`` waiter, run with --peer-delay, 15 s being its real default), then the
circuit-breaker case (the deployment fails and ECS rolls back to the old revision): how many of the two
call it a success (a false green). Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/deploy.py [--latency 0.05] [--repeat 1]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from tests.fakes.ecs_rollout import CLUSTER, NEW, EcsSimulator, fresh_ecs  # noqa: E402

from release_kit.clouds.aws import Aws  # noqa: E402
from release_kit.http import SystemClock  # noqa: E402
from release_kit.platforms.ecs.engine import EcsRollout  # noqa: E402
from release_kit.rollout.deploy import deploy_images  # noqa: E402
from release_kit.rollout.images import parse_image  # noqa: E402
from release_kit.target.settings import DeploySettings  # noqa: E402

SERVICES = {"api": "agent-api", "web": "agent-web"}
SETTINGS = DeploySettings.model_validate(
    {"platform": "ecs", "region": "us-east-1", "cluster": CLUSTER, "services": SERVICES}
)


class Proxy:
    """Forwards every request to moto after ``latency`` seconds; counts them."""

    def __init__(self, upstream: str, latency: float) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(latency)
                proxy.requests += 1
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("POST", self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class PlayEcs(threading.Thread):
    """ECS in the background: start each deployment at once, finish it ``after`` seconds later."""

    def __init__(self, sim: EcsSimulator, after: float, outcome: str) -> None:
        super().__init__(daemon=True)
        self.sim, self.after, self.outcome = sim, after, outcome
        self.done: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        started: dict[str, float] = {}
        while not self.stop.is_set():
            for name in SERVICES.values():
                service = self.sim.service(CLUSTER, name)
                primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
                moved = self.sim.arn(service.task_definition) != primary["taskDefinition"]
                if name not in started and (moved or primary["rolloutState"] == "IN_PROGRESS"):
                    self.sim.start(CLUSTER, name)
                    started[name] = time.monotonic()
                if name in started and name not in self.done and time.monotonic() - started[name] >= self.after:
                    if self.outcome == "complete":
                        self.sim.complete(CLUSTER, name)
                    else:
                        self.sim.fail(CLUSTER, name, "tasks failed to start: essential container exited")
                        self.sim.roll_back(CLUSTER, name)
                    self.done[name] = time.monotonic()
            time.sleep(0.01)


class Timed:
    """The ECS engine, noting when each role's verdict lands."""

    def __init__(self, inner: EcsRollout) -> None:
        self.inner = inner
        self.at: dict[str, float] = {}

    def deploy(self, role: Any, *args: Any) -> Any:
        result = self.inner.deploy(role, *args)
        self.at[role] = time.monotonic()
        return result

    def migrate(self, *args: Any) -> Any:
        return self.inner.migrate(*args)

    def current_image(self, *args: Any) -> Any:
        return self.inner.current_image(*args)


def ours(
    proxy: Proxy, sim: EcsSimulator, after: float, interval: float, outcome: str
) -> tuple[dict[str, float], int, bool]:
    player = PlayEcs(sim, after, outcome)
    player.start()
    proxy.requests = 0
    aws = Aws("us-east-1")
    engine = Timed(EcsRollout(aws, CLUSTER, clock=SystemClock(), interval=interval))
    images = {role: parse_image(NEW[role]) for role in SERVICES}
    report = deploy_images(SETTINGS, images, 120, engine=(engine, aws))
    player.stop.set()
    lags = {role: at - player.done[SERVICES[role]] for role, at in engine.at.items() if SERVICES[role] in player.done}
    return lags, proxy.requests, report.passed


def peer(
    proxy: Proxy, sim: EcsSimulator, after: float, delay: float, outcome: str
) -> tuple[dict[str, float], int, bool]:
    """What a deploy script does with the SDK: new revision, UpdateService, services_stable."""
    import boto3
    from botocore.exceptions import WaiterError

    player = PlayEcs(sim, after, outcome)
    player.start()
    proxy.requests = 0
    ecs = boto3.client("ecs", region_name="us-east-1")
    lags: dict[str, float] = {}
    green = True
    for role, name in SERVICES.items():
        current = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]["taskDefinition"]
        definition = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        keep = ("family", "containerDefinitions", "taskRoleArn", "executionRoleArn", "networkMode",
                "requiresCompatibilities", "cpu", "memory")  # fmt: skip
        params = {k: definition[k] for k in keep if k in definition}
        params["containerDefinitions"] = [
            {**c, "image": NEW[role]} if c["name"] == role else c for c in definition["containerDefinitions"]
        ]
        arn = ecs.register_task_definition(**params)["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=arn)
        sim.start(CLUSTER, name)  # ECS creates the deployment as UpdateService returns
        try:
            ecs.get_waiter("services_stable").wait(
                cluster=CLUSTER, services=[name], WaiterConfig={"Delay": delay, "MaxAttempts": 40}
            )
        except WaiterError:  # the waiter's failure is its verdict
            green = False
            break
        lags[role] = time.monotonic() - player.done.get(name, time.monotonic())
    player.stop.set()
    return lags, proxy.requests, green


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request (default 0.05)")
    parser.add_argument("--complete-after", type=float, default=3.0, help="seconds a deployment takes (default 3)")
    parser.add_argument("--interval", type=float, default=5.0, help="release-kit's poll interval (its default: 5)")
    parser.add_argument("--peer-delay", type=float, default=15.0, help="services_stable's delay (its default: 15)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant; medians are shown")
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = Proxy(f"http://{host}:{port}", args.latency)
    results: dict[str, list[tuple[dict[str, float], int, bool]]] = {
        "ours": [],
        "peer": [],
        "ours-cb": [],
        "peer-cb": [],
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", proxy.url)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(key, "bench")
        for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            patch.setenv(key, "us-east-1")
        for _ in range(args.repeat):
            for name, variant, outcome in (
                ("ours", ours, "complete"),
                ("peer", peer, "complete"),
                ("ours-cb", ours, "fail"),
                ("peer-cb", peer, "fail"),
            ):
                pace = args.interval if variant is ours else args.peer_delay
                with fresh_ecs() as sim:
                    results[name].append(variant(proxy, sim, args.complete_after, pace, outcome))
    server.stop()

    def med(key: str, role: str) -> float:
        return statistics.median(r[0].get(role, float("nan")) for r in results[key])

    def calls(key: str) -> int:
        return int(statistics.median(r[1] for r in results[key]))

    ours_ok = all(r[2] for r in results["ours"])
    peer_ok = all(r[2] for r in results["peer"])
    print(
        f"latency per request: {args.latency * 1000:.0f} ms; "
        f"each deployment completes after {args.complete_after:.1f} s"
    )
    print(f"release-kit deploy (poll every {args.interval:g} s): passed {ours_ok}")
    print(f"  calls made:                        {calls('ours')}")
    print(f"  verdict after completion, api:     {med('ours', 'api'):.2f} s")
    print(f"  verdict after completion, web:     {med('ours', 'web'):.2f} s")
    print(f"peer (services_stable, delay {args.peer_delay:g} s): passed {peer_ok}")
    print(f"  calls made:                        {calls('peer')}")
    print(f"  verdict after completion, api:     {med('peer', 'api'):.2f} s")
    print(f"  verdict after completion, web:     {med('peer', 'web'):.2f} s")
    ours_false = sum(1 for r in results["ours-cb"] if r[2])
    peer_false = sum(1 for r in results["peer-cb"] if r[2])
    print(
        f"circuit-breaker rollback, false greens: ours {ours_false} of {args.repeat}, "
        f"peer {peer_false} of {args.repeat}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
