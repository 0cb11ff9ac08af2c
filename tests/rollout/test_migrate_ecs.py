"""migrate on ECS: a one-off task of the API service, judged by its exit code; snapshots first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from release_kit.errors import InputError
from release_kit.rollout.images import parse_image
from release_kit.rollout.migrate import run_migration, split_command
from release_kit.rollout.models import Verdict
from release_kit.rollout.snapshot import snapshot_identifier
from release_kit.target.settings import DeploySettings
from tests.fakes.aws import backend
from tests.fakes.ecs_rollout import CLUSTER, NEW, OLD, EcsSimulator, ScriptedClock, fresh_ecs, moto_session

COMMAND = split_command("starter-console release db --note 'schema v2'")


def settings(**extra: object) -> DeploySettings:
    return DeploySettings.model_validate(
        {"platform": "ecs", "region": "us-east-1", "cluster": CLUSTER, "services": {"api": "agent-api"}} | extra
    )


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_session() as url:
        yield url


@pytest.fixture
def sim(moto: str) -> Iterator[EcsSimulator]:
    with fresh_ecs() as simulator:
        yield simulator


def test_exit_0_passes_and_the_task_runs_like_the_service_with_our_command(sim: EcsSimulator) -> None:
    clock = ScriptedClock(lambda: None, lambda: sim.stop_task(CLUSTER, 0))
    report = run_migration(settings(), COMMAND, clock=clock)

    assert report.passed and report.verdict is Verdict.PASS
    assert report.exit_code == 0 and report.reason == "container api exited 0"
    task = sim.tasks(CLUSTER)[-1]
    assert task.started_by == "release-kit"
    assert task.launch_type == "FARGATE" and task.platform_version == "1.4.0"
    assert task.network_configuration["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert task.overrides == {
        "containerOverrides": [{"name": "api", "command": ["starter-console", "release", "db", "--note", "schema v2"]}]
    }
    assert task.task_definition_arn.endswith("agent-api:1")  # no --image: the service's own revision
    task_id = task.task_arn.rsplit("/", 1)[-1]
    assert report.log_url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/"
        f"$252Fecs$252Fagent-api/log-events/app$252Fapi$252F{task_id}"
    )


def test_exit_1_fails_and_is_not_retried(sim: EcsSimulator) -> None:
    report = run_migration(settings(), COMMAND, clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, 1)))
    assert not report.passed
    assert report.exit_code == 1
    assert report.reason == "container api exited 1 (Essential container in task exited)"
    assert len(sim.tasks(CLUSTER)) == 1


def test_no_exit_code_fails_with_the_stopped_reason(sim: EcsSimulator) -> None:
    why = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    report = run_migration(settings(), COMMAND, clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, None, why)))
    assert not report.passed and report.exit_code is None
    assert report.reason == f"container api has no exit code: {why}"


def test_image_runs_a_new_revision_of_the_api_task_definition(sim: EcsSimulator) -> None:
    image = parse_image(NEW["api"])
    report = run_migration(settings(), COMMAND, image, clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, 0)))
    assert report.passed and report.task_definition is not None and report.task_definition.endswith("agent-api:2")
    revision = backend("ecs").task_definitions["agent-api"][2]
    assert revision.container_definitions[0]["image"] == NEW["api"]
    assert backend("ecs").services[f"{CLUSTER}:agent-api"].task_definition.endswith("agent-api:1")  # service untouched


def test_a_migration_still_running_at_the_deadline_fails(sim: EcsSimulator) -> None:
    report = run_migration(settings(), COMMAND, timeout=20, clock=ScriptedClock())
    assert not report.passed and report.reason.startswith("not done within 20s (--timeout): task ")


def test_snapshot_of_an_rds_instance_comes_first_and_is_in_the_report(sim: EcsSimulator) -> None:
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="agent-pg", DBInstanceClass="db.t4g.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1", AllocatedStorage=20,
    )  # fmt: skip
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 0))
    clock.t = datetime(2026, 12, 1, 12, 30, 41, tzinfo=UTC).timestamp()
    report = run_migration(
        settings(backups={"database": {"rds_instance": "agent-pg"}}), COMMAND, snapshot=True, tag="v1.4.0", clock=clock
    )
    assert report.passed and report.snapshot == "release-kit-v1-4-0-202612011230"
    snap = boto3.client("rds").describe_db_snapshots(DBSnapshotIdentifier=report.snapshot)["DBSnapshots"][0]
    assert snap["DBInstanceIdentifier"] == "agent-pg" and snap["SnapshotType"] == "manual"


def test_snapshot_of_an_aurora_cluster_uses_the_tag_of_the_image(sim: EcsSimulator) -> None:
    boto3.client("rds").create_db_cluster(
        DBClusterIdentifier="agent-aurora", Engine="aurora-postgresql",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1",
    )  # fmt: skip
    report = run_migration(
        settings(backups={"database": {"rds_cluster": "agent-aurora"}}),
        COMMAND,
        parse_image(NEW["api"]),  # registry.example.com/app/api:1.4.0@sha256:...
        snapshot=True,
        clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, 0)),
    )
    assert report.snapshot is not None and report.snapshot.startswith("release-kit-1-4-0-")
    found = boto3.client("rds").describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=report.snapshot)
    assert found["DBClusterSnapshots"][0]["DBClusterIdentifier"] == "agent-aurora"


def test_snapshot_needs_a_database_and_a_release_name(sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REF_TYPE", raising=False)
    with pytest.raises(InputError, match="no database to snapshot"):
        run_migration(settings(), COMMAND, snapshot=True, tag="v1", clock=ScriptedClock())
    with pytest.raises(InputError, match="--snapshot needs the release's name"):
        run_migration(
            settings(backups={"database": {"rds_instance": "x"}}), COMMAND, parse_image(OLD["api"]), snapshot=True,
            clock=ScriptedClock(),
        )  # fmt: skip
    assert sim.tasks(CLUSTER) == []  # nothing ran


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("v1.4.0", "release-kit-v1-4-0-202612011230"),
        ("V2.0.0-rc.1+build", "release-kit-v2-0-0-rc-1-build-202612011230"),
        ("--", "release-kit-202612011230"),
    ],
)
def test_snapshot_identifiers_are_valid_rds_identifiers(tag: str, expected: str) -> None:
    assert snapshot_identifier(tag, datetime(2026, 12, 1, 12, 30, 59, tzinfo=UTC)) == expected


def test_a_command_that_does_not_split_is_exit_2() -> None:
    with pytest.raises(InputError, match="cannot split it"):
        split_command("starter-console 'release db")
    with pytest.raises(InputError, match="--command is required"):
        split_command("  ")


def test_a_capacity_provider_strategy_is_used_instead_of_a_launch_type() -> None:
    from release_kit.platforms.ecs.engine import run_task_params
    from release_kit.platforms.ecs.models import EcsService

    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 3}, {"capacityProvider": "FARGATE", "base": 1}]
    service = EcsService.model_validate(
        {"capacityProviderStrategy": strategy, "launchType": "FARGATE", "platformVersion": "LATEST"}
    )
    params = run_task_params("prod", service, "agent-api:7", "api", ["starter-console", "release", "db"])
    assert params["capacityProviderStrategy"] == strategy and "launchType" not in params
    assert params["platformVersion"] == "LATEST" and "networkConfiguration" not in params
    assert params["overrides"] == {
        "containerOverrides": [{"name": "api", "command": ["starter-console", "release", "db"]}]
    }
