"""rollback on Azure Container Apps: the SDK's real requests answered by `responses`, GitHub by the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds.arm import Arm
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.platforms.container_apps.engine import ContainerAppsRollout
from release_kit.rollout.rollback import run_rollback
from release_kit.target.settings import DeploySettings
from tests.fakes.clock import FakeClock
from tests.fakes.container_apps import GROUP, SUB, FakeContainerApps, FakeCredential
from tests.fakes.ecs_rollout import ScriptedClock
from tests.fakes.github import FakeGitHub, sha_of
from tests.records.conftest import REPO, TOKEN, deploy
from tests.rollout.digests import every_digest_exists

GOOD = {"api": "myreg.azurecr.io/app/api@sha256:" + "c" * 64, "web": "myreg.azurecr.io/app/web@sha256:" + "d" * 64}
NOW = {"api": "myreg.azurecr.io/app/api@sha256:" + "1" * 64, "web": "myreg.azurecr.io/app/web@sha256:" + "2" * 64}
SETTINGS = DeploySettings.model_validate(
    {
        "platform": "container-apps",
        "subscription": SUB,
        "resource_group": GROUP,
        "services": {"api": "agent-api", "web": "agent-web"},
        "backups": {"database": {"azure_postgres": "agent-pg"}},
    }
)


@pytest.fixture(autouse=True)
def _digests_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    every_digest_exists(monkeypatch)


@pytest.fixture
def azure() -> Iterator[FakeContainerApps]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeContainerApps(rsps)
        fake.add_app("agent-api", "api", NOW["api"])
        fake.add_app("agent-web", "web", NOW["web"])
        yield fake


def test_container_apps_redeploys_the_good_revisions_and_prints_the_point_in_time_restore(
    azure: FakeContainerApps,
) -> None:
    github = FakeGitHub()
    for tag in ("v1.3.0", "v1.4.0"):
        github.add_ref(f"tags/{tag}", sha_of(tag))
    good = deploy(github, "v1.3.0", "success", image_set=GOOD)
    newest = deploy(github, "v1.4.0", "success", image_set=NOW, snapshot="release-kit-v1-4-0-202612011230")
    revisions: list[str] = []
    clock = ScriptedClock(
        lambda: revisions.append(azure.new_revision("agent-api")),
        lambda: azure.promote("agent-api", revisions[0]),
        lambda: revisions.append(azure.new_revision("agent-web", "w1")),
        lambda: azure.promote("agent-web", revisions[1]),
    )
    arm = Arm(SUB, credential=FakeCredential())
    engine = ContainerAppsRollout(arm, GROUP, clock=clock)
    gh = GitHubClient(token=TOKEN, transport=github.transport(), policy=RetryPolicy(clock=FakeClock()))
    with gh:
        report, record_error = run_rollback(SETTINGS, gh, REPO, "production", engine=(engine, arm))

    assert record_error is None and report.passed, report
    assert FakeCredential.TOKEN not in report.model_dump_json() and TOKEN not in report.model_dump_json()
    assert report.good.deployment_id == good and report.rollback_of == newest
    assert [p["properties"]["template"]["containers"][0]["image"] for p in azure.patches] == [GOOD["api"], GOOD["web"]]
    assert [(r.role, r.new) for r in report.deploy.roles] == [("api", "agent-api--x7k2p9q"), ("web", "agent-web--w1")]
    assert azure.starts == []  # no migration job started
    written = github.deployments[-1]["payload"]
    assert written["images"] == GOOD and written["rollback_of"] == newest and written["checks"] == {"deploy": "pass"}
    assert report.database.command == [
        "az", "postgres", "flexible-server", "restore",
        "--resource-group", GROUP,
        "--name", "agent-pg-restored",
        "--source-server", "agent-pg",
        "--restore-time", "2026-12-01T12:30:00Z",
    ]  # fmt: skip
