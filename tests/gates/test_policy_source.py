"""verify-gates says which policy it judged, and what a missing gate's repository does have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release_kit.gates.judge import find_workflow
from release_kit.gates.models import Verdict, Workflow
from release_kit.gates.run import run
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub, green_runbook

CONFIG = "gates:\n  gates:\n    - name: Backend CI\n"


def verify(fake: FakeGitHub, config: Path | None, tmp_path: Path, summary: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    report = tmp_path / "report.json"
    gh = GitHubClient(token="ghs_faketoken1234", transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))
    code = run(
        repo=fake.full_name,
        ref="v1.4.0",
        config_path=config,
        wait=0,
        report_path=report,
        fmt="text",
        client=gh,
        clock=FakeClock(),
    )
    return int(code), json.loads(report.read_text()), summary.read_text()


@pytest.mark.parametrize("where", ["built-in", "default file", "--config"])
def test_output_report_and_summary_name_the_policy(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeGitHub()
    green_runbook(fake)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    config = None
    expected = "built-in runbook policy"
    if where == "default file":
        Path(".github").mkdir()
        Path(".github/release-kit.yml").write_text(CONFIG)
        expected = ".github/release-kit.yml"
    elif where == "--config":
        config = tmp_path / "policies" / "gates.yml"
        config.parent.mkdir()
        config.write_text(CONFIG)
        expected = str(config)
    code, report, markdown = verify(fake, config, tmp_path, summary)
    assert code == 0
    assert report["policy"] == expected
    assert len(report["gates"]) == (9 if where == "built-in" else 1)
    assert f"policy: {expected}\n" in capsys.readouterr().out
    assert f"Policy: {expected}\n" in markdown


def workflows(*names: str) -> list[Workflow]:
    return [Workflow(id=i, name=n, path=f".github/workflows/{n.lower()}.yml") for i, n in enumerate(names)]


def test_a_missing_gate_lists_the_workflows_closest_first() -> None:
    found = find_workflow(workflows("Release", "CodeQL", "Providers", "CI"), "Providers CI")
    assert not isinstance(found, Workflow) and found.verdict is Verdict.MISSING
    assert (
        found.reason == "no workflow named 'Providers CI'; this repository has: 'Providers', 'CI', 'CodeQL', 'Release'"
    )


def test_a_missing_workflow_file_lists_the_files() -> None:
    found = find_workflow(workflows("CI", "Release"), ".github/workflows/ci.yaml")
    assert not isinstance(found, Workflow)
    assert found.reason == (
        "no workflow file '.github/workflows/ci.yaml'; "
        "this repository has: '.github/workflows/ci.yml', '.github/workflows/release.yml'"
    )


def test_a_repository_without_workflows_says_so_and_long_lists_are_cut() -> None:
    found = find_workflow([], "CI")
    assert (
        not isinstance(found, Workflow) and found.reason == "no workflow named 'CI'; this repository has no workflows"
    )
    many = find_workflow(workflows(*(f"Job {i:02}" for i in range(20))), "CI")
    assert not isinstance(many, Workflow) and many.reason.endswith(" and 8 more")
