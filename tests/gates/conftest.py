from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from release_kit.gates.run import run
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub, green_runbook


@dataclass
class Outcome:
    code: int
    report: dict[str, Any]

    def gate(self, name: str) -> dict[str, Any]:
        return next(g for g in self.report["gates"] if g["name"] == name)

    @property
    def verdicts(self) -> dict[str, str]:
        return {g["name"]: g["verdict"] for g in self.report["gates"]}


Check = Callable[..., Outcome]


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def sha(fake: FakeGitHub) -> str:
    return green_runbook(fake)


@pytest.fixture
def check(fake: FakeGitHub, tmp_path: Path) -> Check:
    def _check(
        ref: str = "v1.4.0",
        *,
        config: str | None = None,
        clock: FakeClock | None = None,
        wait: float = 0,
    ) -> Outcome:
        clock = clock or FakeClock()
        path = None
        if config is not None:
            path = tmp_path / "release-kit.yml"
            path.write_text(config)
        report = tmp_path / "report.json"
        gh = GitHubClient(token="ghs_faketoken1234", transport=fake.transport(), policy=RetryPolicy(clock=clock))
        code = run(
            repo=fake.full_name,
            ref=ref,
            config_path=path,
            wait=wait,
            report_path=report,
            fmt="text",
            client=gh,
            clock=clock,
        )
        return Outcome(int(code), json.loads(report.read_text()))

    return _check
