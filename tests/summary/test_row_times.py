"""Rows with their own timing carry their own UTC start and end: smoke steps, health endpoints, deploy roles."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from release_kit import timing
from release_kit.cli import run_cli
from release_kit.rollout.deploy import deploy_images
from release_kit.rollout.images import parse_image
from release_kit.rollout.models import RoleResult, Verdict
from release_kit.target.settings import DeploySettings
from tests.probes.auth_app import SMOKE_EMAIL, AuthApp, serve
from tests.probes.fault_server import FaultServer
from tests.probes.fault_server import serve as serve_faults

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple-42"
SLACK = timedelta(milliseconds=2)  # the report's own stamp is cut to milliseconds


def span(row: dict[str, Any]) -> tuple[datetime, datetime]:
    return timing.parse_iso(row["started_at"]), timing.parse_iso(row["finished_at"])


def test_each_smoke_step_has_its_span_inside_the_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOKE_PASSWORD", PASSWORD)
    report_path = tmp_path / "smoke.json"
    with serve(AuthApp("", users={SMOKE_EMAIL: PASSWORD})) as url:
        spec = str(ROOT / "examples" / "smoke.yml")
        assert run_cli(["smoke", "--spec", spec, "--api-url", url, "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    command = span(report)
    steps = [s for flow in report["flows"] for s in flow["steps"]]
    assert len(steps) >= 3
    previous_end = None
    for step in steps:
        start, end = span(step)
        assert command[0] - SLACK <= start <= end <= command[1] + SLACK
        assert abs((end - start).total_seconds() - step["elapsed_s"]) < 0.05
        if previous_end is not None:
            assert start >= previous_end  # steps run one after another
        previous_end = end


def test_each_health_endpoint_is_ready_within_its_span(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = FaultServer(ready_after=0.4)
    report_path = tmp_path / "health.json"
    with serve_faults(app) as url:
        args = ["health", "--url", f"{url}/ready", "--url", f"{url}/warmup-503", "--interval", "0.05"]
        assert run_cli([*args, "--consecutive", "2", "--deadline", "5", "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    ready, warm = report["endpoints"]
    for endpoint in (ready, warm):
        start, end = span(endpoint)
        assert abs((end - start).total_seconds() - endpoint["healthy_after_s"]) < 0.02
    assert span(ready)[0] == span(warm)[0]  # polled together
    assert span(warm)[1] - span(warm)[0] >= timedelta(seconds=0.35)  # it warmed up first


class SlowEngine:
    calls = 0

    def deploy(self, role: str, service: str, container: str | None, image: object, timeout: float) -> RoleResult:
        time.sleep(0.05)
        return RoleResult(role=role, service=service, image=str(image), verdict=Verdict.PASS, reason="ok", seconds=0.05)


def test_each_deployed_role_has_its_span_in_rollout_order() -> None:
    settings = DeploySettings.model_validate(
        {
            "platform": "ecs",
            "cluster": "prod",
            "services": {"api": "shop-api", "web": "shop-web"},
            "images": {r: f"1.dkr.ecr.us-east-1.amazonaws.com/shop/{r}" for r in ("api", "web")},
        }
    )
    images = {r: parse_image(f"1.dkr.ecr.us-east-1.amazonaws.com/shop/{r}@sha256:" + "a" * 64) for r in ("api", "web")}
    engine = SlowEngine()
    before = datetime.now(UTC)
    report = deploy_images(settings, images, 60, engine=(engine, engine))  # type: ignore[arg-type]
    api, web = report.roles
    assert api.started_at is not None and api.finished_at is not None
    assert web.started_at is not None and web.finished_at is not None
    assert before <= api.started_at < api.finished_at <= web.started_at < web.finished_at <= datetime.now(UTC)
    assert api.finished_at - api.started_at >= timedelta(seconds=0.05)
    dumped = json.loads(report.model_dump_json())
    assert dumped["roles"][0]["started_at"].endswith("Z")
