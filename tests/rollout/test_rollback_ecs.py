"""rollback on ECS through moto's server (rollouts played by EcsSimulator) with the fake GitHub Deployments."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml

from release_kit import gha
from release_kit.cli import run_cli
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.records.models import NoGoodRecord
from release_kit.rollout.rollback import run_rollback
from release_kit.target.settings import DeploySettings
from tests.fakes.aws import backend
from tests.fakes.clock import FakeClock
from tests.fakes.ecs_rollout import CLUSTER, OLD, EcsSimulator, ScriptedClock
from tests.fakes.github import FakeGitHub, serve, sha_of
from tests.records.conftest import REPO, TOKEN, deploy
from tests.rollout.digests import every_digest_exists
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parents[2]
GOOD = {  # v1.2.0, the last known good release
    "api": "registry.example.com/app/api:1.2.0@sha256:" + "c" * 64,
    "web": "registry.example.com/app/web@sha256:" + "d" * 64,
}
BAD = {  # v1.3.0: its checks failed
    "api": "registry.example.com/app/api@sha256:" + "e" * 64,
    "web": "registry.example.com/app/web@sha256:" + "f" * 64,
}
SNAPSHOT = "release-kit-v1-4-0-202612011230"
CONFIG = f"""
deploy:
  platform: ecs
  region: us-east-1
  cluster: {CLUSTER}
  services: {{api: agent-api, web: agent-web}}
  backups:
    database: {{rds_instance: agent-pg}}
"""


def settings(database: dict[str, str] | None = None) -> DeploySettings:
    return DeploySettings.model_validate(
        {
            "platform": "ecs",
            "region": "us-east-1",
            "cluster": CLUSTER,
            "services": {"api": "agent-api", "web": "agent-web"},
            "backups": {"database": database or {"rds_instance": "agent-pg"}},
        }
    )


def history(fake: FakeGitHub, *, newest_snapshot: str | None = SNAPSHOT) -> dict[str, int]:
    """v1.2.0 good; v1.3.0 deployed but its smoke check failed; v1.4.0 (running now: OLD) the newest,
    with the snapshot taken before its migration."""
    for tag in ("v1.2.0", "v1.3.0", "v1.4.0"):
        fake.add_ref(f"tags/{tag}", sha_of(tag))
    return {
        "v1.2.0": deploy(fake, "v1.2.0", "success", image_set=GOOD),
        "v1.3.0": deploy(fake, "v1.3.0", "success", image_set=BAD, checks={"health": "pass", "smoke": "fail"}),
        "v1.4.0": deploy(fake, "v1.4.0", "success", image_set=OLD, snapshot=newest_snapshot),
    }


@pytest.fixture(autouse=True)
def _digests_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    every_digest_exists(monkeypatch)


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    gh = GitHubClient(token=TOKEN, transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))
    yield gh
    gh.close()


def completes(sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch, *roles: str) -> ScriptedClock:
    clock = ScriptedClock(*(lambda role=role: sim.complete(CLUSTER, f"agent-{role}") for role in roles))
    monkeypatch.setattr("release_kit.rollout.deploy.SystemClock", lambda: clock)
    return clock


def running_image(service: str) -> str:
    ecs = boto3.client("ecs")
    arn = ecs.describe_services(cluster=CLUSTER, services=[service])["services"][0]["taskDefinition"]
    return str(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"])


def test_the_good_record_two_releases_back_is_redeployed_and_recorded_as_a_rollback(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = history(fake)
    completes(sim, monkeypatch, "api", "web")

    report, record_error = run_rollback(settings(), client, REPO, "production")

    assert record_error is None and report.passed
    assert report.good.ref == "v1.2.0" and report.good.deployment_id == ids["v1.2.0"]
    assert running_image("agent-api") == GOOD["api"] and running_image("agent-web") == GOOD["web"]
    assert [(r.role, r.verdict.value, r.previous_image) for r in report.deploy.roles] == [
        ("api", "pass", OLD["api"]),
        ("web", "pass", OLD["web"]),
    ]
    assert sim.tasks(CLUSTER) == []  # no migration: RunTask never called
    written = fake.deployments[-1]
    assert report.record is not None and report.record.deployment_id == written["id"]
    assert written["ref"] == "v1.2.0" and written["task"] == "deploy:release-kit"
    assert written["payload"] == {
        "release_kit": 1,
        "images": GOOD,
        "checks": {"deploy": "pass"},
        "snapshot": None,
        "rollback_of": ids["v1.4.0"],
        "record_id": written["payload"]["record_id"],
    }
    assert fake.deployment_statuses[written["id"]][-1]["state"] == "success"
    assert report.rollback_of == ids["v1.4.0"] and report.rolled_back and report.rolled_back.ref == "v1.4.0"
    assert report.database.snapshot == SNAPSHOT
    assert report.database.command == [
        "aws", "rds", "restore-db-instance-from-db-snapshot",
        "--db-instance-identifier", "agent-pg-restored",
        "--db-snapshot-identifier", SNAPSHOT,
    ]  # fmt: skip


def test_to_a_ref_redeploys_its_newest_good_record_and_rolls_back_the_newest(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_ref("tags/v1.1.0", sha_of("v1.1.0"))
    older = {role: ref.replace("c" * 64, "7" * 64).replace("d" * 64, "8" * 64) for role, ref in GOOD.items()}
    v110 = deploy(fake, "v1.1.0", "success", image_set=older)
    ids = history(fake)
    completes(sim, monkeypatch, "api", "web")

    report, _ = run_rollback(settings(), client, REPO, "production", to_ref="v1.1.0")

    assert report.passed and report.good.deployment_id == v110
    assert running_image("agent-api") == older["api"] and running_image("agent-web") == older["web"]
    assert fake.deployments[-1]["payload"]["rollback_of"] == ids["v1.4.0"]
    assert fake.deployments[-1]["ref"] == "v1.1.0"


def test_no_good_record_exits_1_naming_the_search_and_changes_nothing(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    deploy(fake, "v1.3.0", "failure", image_set=BAD)
    deploy(fake, "v1.4.0", "success", image_set=OLD)  # the newest: what runs now
    before = len(fake.deployments)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        code = run_cli(["rollback", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"])

    assert code == 1
    err = capsys.readouterr().err
    assert "no last good record in environment 'production' of octo-org/app: read 2 deployment(s)" in err
    assert len(fake.deployments) == before  # nothing recorded
    assert 2 not in backend("ecs").task_definitions["agent-api"]  # nothing deployed
    assert running_image("agent-api") == OLD["api"]


def test_no_good_record_message(sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    deploy(fake, "v1.4.0", "success", image_set=OLD)
    with pytest.raises(NoGoodRecord, match=r"no last good record in environment 'production' of octo-org/app: read 1"):
        run_rollback(settings(), client, REPO, "production")


def test_a_circuit_breaker_rollback_of_the_rollback_is_recorded_as_failure_and_exits_1(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ids = history(fake)
    reason = "tasks failed to start: CannotPullContainerError: pull access denied"
    clock = ScriptedClock(lambda: sim.fail(CLUSTER, "agent-api", reason))
    monkeypatch.setattr("release_kit.rollout.deploy.SystemClock", lambda: clock)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        args = ["rollback", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"]
        code = run_cli([*args, "--format", "json", "--timeout", "120"])

    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    assert report["deploy"]["roles"][0]["reason"] == f"rolled back by the deployment circuit breaker: {reason}"
    assert report["deploy"]["roles"][1]["verdict"] == "skipped"
    written = fake.deployments[-1]
    assert written["payload"]["checks"] == {"deploy": "fail"} and written["payload"]["rollback_of"] == ids["v1.4.0"]
    assert written["payload"]["images"] == GOOD
    assert fake.deployment_statuses[written["id"]][-1]["state"] == "failure"
    assert report["record"]["deployment_id"] == written["id"]


def test_aurora_prints_the_cluster_restore_with_the_snapshot_engine(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rds = boto3.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="agent-aurora",
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword=secrets.token_urlsafe(16),
    )
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=SNAPSHOT, DBClusterIdentifier="agent-aurora")
    history(fake)
    completes(sim, monkeypatch, "api", "web")

    report, _ = run_rollback(settings({"rds_cluster": "agent-aurora"}), client, REPO, "production")

    assert report.database.command == [
        "aws", "rds", "restore-db-cluster-from-snapshot",
        "--db-cluster-identifier", "agent-aurora-restored",
        "--snapshot-identifier", SNAPSHOT,
        "--engine", "aurora-postgresql",
    ]  # fmt: skip
    assert any("add one" in note for note in report.database.notes)
    assert not rds.describe_db_clusters(DBClusterIdentifier="agent-aurora")["DBClusters"][0].get("RestoreType")
    assert [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]] == ["agent-aurora"]


def test_no_snapshot_recorded_says_so(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(fake, newest_snapshot=None)
    completes(sim, monkeypatch, "api", "web")
    report, _ = run_rollback(settings(), client, REPO, "production")
    assert report.database.command is None
    assert report.database.notes[0].startswith("no snapshot recorded by v1.4.0's record")


def test_a_record_that_cannot_be_written_says_the_services_were_rolled_back(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    history(fake)
    completes(sim, monkeypatch, "api", "web")
    fake.fail("POST", r"/deployments$", 403, body={"message": "Resource not accessible by integration"})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        code = run_cli(["rollback", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"])

    captured = capsys.readouterr()
    assert code == 2
    assert running_image("agent-api") == GOOD["api"]
    assert "NOT recorded" in captured.out
    assert "the services were rolled back to v1.2.0 (api, web passed), but the record was not written" in captured.err
    assert "deployments: write" in captured.err


def test_the_cli_runs_the_actions_way_and_never_prints_the_token(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Inputs as rollback/action.yml maps them (unset inputs arrive as '')."""
    ids = history(fake)
    completes(sim, monkeypatch, "api", "web")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "release-kit.yml").write_text(CONFIG)
    action = yaml.safe_load((ROOT / "rollback/action.yml").read_text())
    env = next(s for s in action["runs"]["steps"] if s.get("id") == "rollback")["env"]
    given = {"platform": "ecs", "environment": "production", "timeout": "900", "repo": "octo-org/app", "token": TOKEN}
    for key, value in env.items():
        if key != "RK_REPORT":
            name = value.removeprefix("${{ inputs.").removesuffix(" }}")
            monkeypatch.setenv(key, given.get(name, ""))
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/app",
        "GITHUB_RUN_ID": "4242",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    gha.forget_secrets()
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        assert run_cli(["rollback"]) == 0

    captured = capsys.readouterr()
    outputs = parse_outputs((tmp_path / "out").read_text())
    assert set(outputs) == set(action["outputs"])
    written = fake.deployments[-1]
    assert outputs["passed"] == "true" and outputs["deployment-id"] == str(written["id"])
    assert json.loads(outputs["images"]) == GOOD
    report = json.loads(Path(outputs["report"]).read_text())
    assert report["rollback_of"] == ids["v1.4.0"] and report["good"]["ref"] == "v1.2.0"
    status = fake.deployment_statuses[written["id"]][-1]
    assert status["log_url"] == "https://github.com/octo-org/app/actions/runs/4242"
    out = captured.out
    assert "rolled production back to v1.2.0" in out
    assert "no migration was run: the database keeps its schema" in out
    assert (
        "restore (not run): aws rds restore-db-instance-from-db-snapshot --db-instance-identifier agent-pg-restored "
        f"--db-snapshot-identifier {SNAPSHOT}" in out
    )
    summary = (tmp_path / "summary.md").read_text()
    assert "release-kit rollback" in summary and f"--db-snapshot-identifier {SNAPSHOT}" in summary
    assert out.startswith(f"::add-mask::{TOKEN}\n")
    everything = out.replace(f"::add-mask::{TOKEN}", "") + captured.err + summary + json.dumps(report)
    assert TOKEN not in everything
    assert sim.tasks(CLUSTER) == []


def test_a_deploy_that_raises_after_api_moved_is_recorded_as_failure_and_the_error_goes_on(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from release_kit.errors import NotFoundError

    ids = history(fake)
    completes(sim, monkeypatch, "api")
    broken = settings().with_overrides(
        services={"api": "agent-api", "web": "no-such-web"},
        images={"api": "registry.example.com/app/api", "web": "registry.example.com/app/web"},  # nothing read first
    )

    with pytest.raises(NotFoundError, match=r"no active service 'no-such-web'.*recorded as failed rollback deployment"):
        run_rollback(broken, client, REPO, "production")

    assert running_image("agent-api") == GOOD["api"]  # api had moved: the record says the rollback failed
    written = fake.deployments[-1]
    assert written["payload"]["checks"] == {"deploy": "fail"} and written["payload"]["rollback_of"] == ids["v1.4.0"]
    assert fake.deployment_statuses[written["id"]][-1]["state"] == "failure"
