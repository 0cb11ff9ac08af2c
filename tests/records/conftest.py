from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from release_kit.github.client import GitHubClient, RepoName
from release_kit.http import RetryPolicy
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub

REPO = RepoName("octo-org", "app")
TOKEN = "ghs_DeploymentsFakeToken0123456789abcdef"


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def images(version: str) -> dict[str, str]:
    return {
        "api": f"ghcr.io/octo-org/app/api@{digest('api' + version)}",
        "web": f"ghcr.io/octo-org/app/web:{version.lstrip('v')}@{digest('web' + version)}",
    }


def payload(
    version: str,
    *,
    checks: dict[str, str] | None = None,
    snapshot: str | None = None,
    rollback_of: int | None = None,
    as_string: bool = False,
    image_set: dict[str, str] | None = None,
) -> Any:
    data = {
        "release_kit": 1,
        "images": image_set or images(version),
        "checks": {"health": "pass", "smoke": "pass"} if checks is None else checks,
        "snapshot": snapshot,
        "rollback_of": rollback_of,
    }
    return json.dumps(data) if as_string else data


def deploy(
    fake: FakeGitHub,
    version: str,
    state: str | None,
    *,
    environment: str = "production",
    creator: str | None = None,
    log_url: str = "",
    **kw: Any,
) -> int:
    """A release-kit record of ``version`` with one status (``state`` None: no status yet)."""
    dep = fake.add_deployment(
        version, environment=environment, task="deploy:release-kit", payload=payload(version, **kw), creator=creator
    )
    if state:
        fake.add_deployment_status(dep, state, log_url=log_url)
        if state == "success":  # GitHub's auto_inactive
            fake.mark_inactive(dep)
    return int(dep["id"])


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    gh = GitHubClient(token=TOKEN, transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))
    yield gh
    gh.close()
