"""migrate on ECS: a one-off task of the API service, judged by its exit code; snapshots first."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from release_kit.cli import run_cli
from release_kit.clouds.aws import RETRY_ATTEMPTS
from release_kit.errors import ExitCode, InputError, RemoteError, RemoteGaveUp
from release_kit.rollout.images import parse_image
from release_kit.rollout.migrate import run_migration, split_command
from release_kit.rollout.models import Verdict
from release_kit.rollout.snapshot import snapshot_identifier
from release_kit.target.settings import DeploySettings
from tests.fakes.aws import backend
from tests.fakes.aws_proxy import ALWAYS, Proxy, serve_proxy
from tests.fakes.ecs_rollout import CLUSTER, NEW, OLD, EcsSimulator, ScriptedClock

LOOKUPS = 3  # release_kit.platforms.ecs.engine.LOOKUPS: a short, bounded re-check
COMMAND = split_command("starter-console release db --note 'schema v2'")


def settings(**extra: object) -> DeploySettings:
    return DeploySettings.model_validate(
        {"platform": "ecs", "region": "us-east-1", "cluster": CLUSTER, "services": {"api": "agent-api"}} | extra
    )


def test_exit_0_passes_and_the_task_runs_like_the_service_with_our_command(sim: EcsSimulator) -> None:
    clock = ScriptedClock(lambda: None, lambda: sim.stop_task(CLUSTER, 0))
    report = run_migration(settings(), COMMAND, clock=clock)

    assert report.passed and report.verdict is Verdict.PASS
    assert report.exit_code == 0 and report.reason == "container api exited 0"
    task = sim.tasks(CLUSTER)[-1]
    assert task.started_by.startswith("release-kit-") and len(task.started_by) == 36  # ECS's limit, unique per run
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
    params = run_task_params(
        "prod", service, "agent-api:7", "api", ["starter-console", "release", "db"], started_by="rk-1", client_token="t"
    )
    assert params["startedBy"] == "rk-1" and params["clientToken"] == "t"
    assert params["capacityProviderStrategy"] == strategy and "launchType" not in params
    assert params["platformVersion"] == "LATEST" and "networkConfiguration" not in params
    assert params["overrides"] == {
        "containerOverrides": [{"name": "api", "command": ["starter-console", "release", "db"]}]
    }


# -- answers lost after AWS acted (tests/fakes/aws_proxy.py: forward, then 500 or a reset) ----------------


@pytest.fixture
def proxy(sim: EcsSimulator, moto: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    """boto3 -> the fault-injecting proxy -> moto's server; the proxy plays ECS's clientToken rule."""
    with serve_proxy(moto) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        yield front


@pytest.mark.parametrize("lost_as", ["500", "reset"])
def test_run_task_answers_lost_twice_start_one_task_for_three_requests(
    proxy: Proxy, sim: EcsSimulator, lost_as: str
) -> None:
    proxy.lose["RunTask"], proxy.lost_as = 2, lost_as
    report = run_migration(settings(), COMMAND, clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, 0)))

    assert report.passed and report.exit_code == 0
    assert proxy.operations.count("RunTask") == 3  # botocore's own retries
    assert proxy.forwarded.count("RunTask") == 1  # the same clientToken each time: ECS started one task
    assert len(proxy.run_task_tokens) == 3 and len(set(proxy.run_task_tokens)) == 1
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", proxy.run_task_tokens[0])
    assert len(sim.tasks(CLUSTER)) == 1
    assert report.task == sim.tasks(CLUSTER)[0].task_arn
    assert "found by its startedBy" not in report.reason  # the third answer came


@pytest.mark.parametrize(("lost_as", "code"), [("500", 0), ("reset", 1)])
def test_every_run_task_answer_lost_follows_the_task_it_started_to_its_exit_code(
    proxy: Proxy, sim: EcsSimulator, lost_as: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.lose["RunTask"], proxy.lost_as = ALWAYS, lost_as
    report = run_migration(settings(), COMMAND, clock=ScriptedClock(lambda: sim.stop_task(CLUSTER, code)))

    assert proxy.operations.count("RunTask") == RETRY_ATTEMPTS and proxy.forwarded.count("RunTask") == 1
    assert len(sim.tasks(CLUSTER)) == 1  # never another
    task = sim.tasks(CLUSTER)[0]
    assert report.task == task.task_arn and report.exit_code == code and report.passed is (code == 0)
    assert report.reason.endswith("(found by its startedBy after AWS lost every answer to ecs:RunTask)")
    assert proxy.operations.count("ListTasks") >= 1
    err = capsys.readouterr().err
    assert f"started by {task.started_by}" in err and "following it, not starting another" in err


def test_every_run_task_answer_lost_and_no_task_listed_is_exit_3_saying_how_to_check(
    proxy: Proxy, sim: EcsSimulator
) -> None:
    # AWS failed before acting: nothing started, every answer a 500
    proxy.answers["RunTask"] = (500, "application/x-amz-json-1.1", b'{"__type":"ServerException","message":"x"}')
    clock = ScriptedClock()
    with pytest.raises(RemoteGaveUp) as raised:
        run_migration(settings(), COMMAND, clock=clock)

    assert raised.value.exit_code == ExitCode.REMOTE
    message = raised.value.one_line()
    assert "AWS kept failing ecs:RunTask" in message and "did not start it again" in message
    assert "no task started by release-kit-" in message and "after 3 looks" in message
    assert "aws ecs list-tasks --cluster prod --started-by release-kit-" in message
    assert proxy.operations.count("ListTasks") == 2 * LOOKUPS  # RUNNING and STOPPED, each look
    assert len(clock.sleeps) == LOOKUPS - 1  # bounded: a short re-check, then the verdict
    assert sim.tasks(CLUSTER) == []


def test_lost_run_task_answers_and_a_failing_look_up_say_the_task_may_be_running(
    proxy: Proxy, sim: EcsSimulator
) -> None:
    proxy.lose["RunTask"] = ALWAYS
    proxy.answers["ListTasks"] = (500, "application/x-amz-json-1.1", b'{"__type":"ServerException","message":"x"}')
    with pytest.raises(RemoteGaveUp, match="may or may not be running and looking for it failed too"):
        run_migration(settings(), COMMAND, clock=ScriptedClock())
    assert len(sim.tasks(CLUSTER)) == 1 and proxy.operations.count("RunTask") == RETRY_ATTEMPTS


def test_lost_run_task_answers_and_no_right_to_list_tasks_say_so_and_what_to_allow(
    proxy: Proxy, sim: EcsSimulator
) -> None:
    proxy.lose["RunTask"] = ALWAYS
    proxy.deny.add("ListTasks")
    with pytest.raises(RemoteGaveUp) as raised:
        run_migration(settings(), COMMAND, clock=ScriptedClock())
    message = raised.value.one_line()
    assert "may or may not be running" in message and "allow ecs:ListTasks" in message
    assert len(sim.tasks(CLUSTER)) == 1


def _instance() -> None:
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="agent-pg", DBInstanceClass="db.t4g.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1", AllocatedStorage=20,
    )  # fmt: skip


def _cluster() -> None:
    boto3.client("rds").create_db_cluster(
        DBClusterIdentifier="agent-aurora", Engine="aurora-postgresql",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1",
    )  # fmt: skip


DATABASES = {
    "instance": ({"rds_instance": "agent-pg"}, _instance, "CreateDBSnapshot"),
    "cluster": ({"rds_cluster": "agent-aurora"}, _cluster, "CreateDBClusterSnapshot"),
}


@pytest.mark.parametrize(
    ("which", "lost_as", "lost"),
    [("instance", "500", 1), ("instance", "reset", ALWAYS), ("cluster", "reset", 1), ("cluster", "500", ALWAYS)],
    ids=["instance-500-once", "instance-reset-always", "cluster-reset-once", "cluster-500-always"],
)
def test_a_snapshot_whose_create_answer_was_lost_is_ours_and_the_migration_runs(
    proxy: Proxy, sim: EcsSimulator, which: str, lost_as: str, lost: int
) -> None:
    database, make, create = DATABASES[which]
    make()
    proxy.lose[create], proxy.lost_as = lost, lost_as
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 0))
    report = run_migration(settings(backups={"database": database}), COMMAND, snapshot=True, tag="v1.4.0", clock=clock)

    assert report.passed, report.reason
    assert report.snapshot is not None and report.snapshot.startswith("release-kit-v1-4-0-")
    assert proxy.forwarded.count(create) == (2 if lost == 1 else RETRY_ATTEMPTS)  # RDS made it on the first
    assert len(sim.tasks(CLUSTER)) == 1  # the migration ran after it
    rds = boto3.client("rds", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    if which == "cluster":
        found = rds.describe_db_cluster_snapshots(DBClusterIdentifier="agent-aurora")["DBClusterSnapshots"]
    else:
        found = rds.describe_db_snapshots(DBInstanceIdentifier="agent-pg")["DBSnapshots"]
    assert [
        s.get("DBSnapshotIdentifier", s.get("DBClusterSnapshotIdentifier"))
        for s in found
        if s["SnapshotType"] == "manual"
    ] == [report.snapshot]


@pytest.mark.parametrize("which", ["instance", "cluster"])
def test_an_existing_snapshot_of_our_name_that_is_not_ours_stays_an_error(
    proxy: Proxy, sim: EcsSimulator, which: str
) -> None:
    database, make, _ = DATABASES[which]
    make()
    clock = ScriptedClock()
    clock.t = datetime(2026, 12, 1, 12, 30, 41, tzinfo=UTC).timestamp()
    ident = snapshot_identifier("v1.4.0", datetime(2026, 12, 1, 12, 30, tzinfo=UTC))
    other = [{"Key": "created-by", "Value": "release-kit"}, {"Key": "release-kit-run", "Value": "an-earlier-run"}]
    rds = boto3.client("rds")
    if which == "cluster":
        rds.create_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=ident, DBClusterIdentifier="agent-aurora", Tags=other
        )
    else:
        rds.create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier="agent-pg", Tags=other)

    with pytest.raises(RemoteError, match="already exists and this migrate did not make it") as raised:
        run_migration(settings(backups={"database": database}), COMMAND, snapshot=True, tag="v1.4.0", clock=clock)
    assert raised.value.exit_code == ExitCode.USAGE
    assert sim.tasks(CLUSTER) == []  # no migration without its snapshot


def test_every_create_answer_lost_before_rds_acted_is_exit_3_and_no_migration(proxy: Proxy, sim: EcsSimulator) -> None:
    _instance()
    proxy.answers["CreateDBSnapshot"] = (
        500,
        "text/xml",
        b"<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>",
    )
    with pytest.raises(RemoteGaveUp, match="so it most likely was not created; no migration run") as raised:
        run_migration(
            settings(backups={"database": {"rds_instance": "agent-pg"}}), COMMAND, snapshot=True, tag="v1",
            clock=ScriptedClock(),
        )  # fmt: skip
    assert "aws rds describe-db-snapshots --db-snapshot-identifier release-kit-v1-" in raised.value.one_line()
    assert sim.tasks(CLUSTER) == []


def test_the_cli_exits_3_when_no_task_is_found_and_0_when_the_found_one_passes(
    proxy: Proxy, sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "release-kit.yml"
    config.write_text(
        f"deploy:\n  platform: ecs\n  region: us-east-1\n  cluster: {CLUSTER}\n  services: {{api: agent-api}}\n"
        "  migrations: {command: starter-console release db}\n"
    )
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    server_error = (500, "application/x-amz-json-1.1", b'{"__type":"ServerException","message":"x"}')
    proxy.answers["RunTask"] = server_error
    monkeypatch.setattr("release_kit.rollout.migrate.SystemClock", ScriptedClock)
    assert run_cli(["migrate", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert "no task started by release-kit-" in err and "aws ecs list-tasks --cluster prod" in err

    del proxy.answers["RunTask"]
    proxy.lose["RunTask"] = ALWAYS
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 0))
    monkeypatch.setattr("release_kit.rollout.migrate.SystemClock", lambda: clock)
    assert run_cli(["migrate", "--config", str(config)]) == 0
    assert "following it, not starting another" in capsys.readouterr().err
    assert len(sim.tasks(CLUSTER)) == 1
