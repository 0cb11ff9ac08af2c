"""What "ready" means per service comes from deploy.health of the config: a 200 saying 'degraded' fails,
the answered version must be the release being deployed, and the paths are the service's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from tests.probes.fault_server import FaultServer, serve

CONFIG = """\
deploy:
  health:
    api: {path: %s, expect_json: {status: ready}, expect_version: true}
"""


def health(tmp_path: Path, config: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / "release-kit.yml"
    path.write_text(config)
    report = tmp_path / "health.json"
    code = run_cli(
        ["health", "--config", str(path), "--interval", "0.05", "--deadline", "1.5", "--consecutive", "1",
         "--report", str(report), *args]
    )  # fmt: skip
    return code, json.loads(report.read_text())


def test_a_service_answering_200_degraded_fails_when_the_config_says_ready_means_status_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", "v1.4.0")
    with serve(FaultServer()) as url:
        code, report = health(tmp_path, CONFIG % "/degraded", "--api-url", url)
    assert code == 1
    (endpoint,) = report["endpoints"]
    assert endpoint["url"] == f"{url}/degraded"
    assert "status" in endpoint["reason"] and "degraded" in endpoint["reason"]


def test_a_ready_service_reporting_the_tag_being_deployed_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", "v1.4.0")  # the app says 1.4.0: the same release
    with serve(FaultServer()) as url:
        code, report = health(tmp_path, CONFIG % "/ready", "--api-url", url)
    assert code == 0, report
    assert report["endpoints"][0]["url"] == f"{url}/ready"


def test_a_service_still_on_the_old_release_fails(tmp_path: Path) -> None:
    with serve(FaultServer()) as url:
        code, report = health(tmp_path, CONFIG % "/ready", "--api-url", url, "--expect-version", "v1.5.0")
    assert code == 1
    assert "expected v1.5.0" in report["endpoints"][0]["reason"]


def test_expect_version_with_no_release_known_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_REF_TYPE", raising=False)
    path = tmp_path / "release-kit.yml"
    path.write_text(CONFIG % "/ready")
    assert run_cli(["health", "--config", str(path), "--api-url", "http://127.0.0.1:9"]) == 2
    assert "deploy.health.api.expect_version" in capsys.readouterr().err


def test_a_role_the_config_does_not_describe_keeps_the_runbook_path_and_the_flags(tmp_path: Path) -> None:
    app = FaultServer()
    with serve(app) as url:
        code, report = health(tmp_path, CONFIG % "/ready", "--web-url", url, "--deadline", "0.5")
    assert report["endpoints"][0]["url"] == f"{url}/api/health/ready"
    assert code == 1  # the fault server has no such path: the web check is the runbook's own, unchanged
