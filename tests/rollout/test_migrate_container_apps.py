"""migrate on Azure Container Apps: an execution of the configured job, command and image overridden."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds.arm import Arm
from release_kit.errors import ExitCode, InputError, RemoteGaveUp
from release_kit.platforms.container_apps.engine import ContainerAppsRollout
from release_kit.rollout.images import parse_image
from release_kit.rollout.migrate import run_migration, split_command
from release_kit.rollout.models import MigrationReport, Verdict
from release_kit.target.settings import DeploySettings
from tests.fakes.container_apps import GROUP, SUB, FakeContainerApps, FakeCredential
from tests.fakes.ecs_rollout import ScriptedClock

JOB_IMAGE = "myreg.azurecr.io/app/api@sha256:" + "1" * 64
NEW = "myreg.azurecr.io/app/api:1.4.0@sha256:" + "a" * 64
SETTINGS = DeploySettings.model_validate(
    {
        "platform": "container-apps",
        "subscription": SUB,
        "resource_group": GROUP,
        "services": {"api": "agent-api"},
        "migrations": {"job": "agent-migrate", "command": "starter-console release db"},
        "images": {"api": "myreg.azurecr.io/app/api"},
    }
)


@pytest.fixture
def azure() -> Iterator[FakeContainerApps]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeContainerApps(rsps)
        fake.add_job("agent-migrate", "migrate", JOB_IMAGE)
        yield fake


def migrate(fake: FakeContainerApps, clock: ScriptedClock, **kwargs: object) -> MigrationReport:
    arm = Arm(SUB, credential=FakeCredential())
    engine = ContainerAppsRollout(arm, GROUP, clock=clock, lro_interval=0)
    command = split_command(SETTINGS.migrations.command)
    return run_migration(SETTINGS, command, clock=clock, engine=(engine, arm), **kwargs)  # type: ignore[arg-type]


def test_a_succeeded_execution_passes_with_command_and_image_overridden(azure: FakeContainerApps) -> None:
    clock = ScriptedClock(lambda: azure.executions["agent-migrate-exec1"].update(status="Succeeded"))
    report = migrate(azure, clock, image=parse_image(NEW))

    assert report.passed and report.verdict is Verdict.PASS
    assert report.task == "agent-migrate-exec1" and report.image == NEW
    container = azure.starts[0]["containers"][0]
    assert container["name"] == "migrate"
    assert container["command"] == ["starter-console", "release", "db"]
    assert container["image"] == NEW
    assert container["env"][0] == {"name": "DATABASE_URL", "secretRef": "database-url"}  # the job's secrets stay
    marker = container["env"][1]  # and a variable unique to this run, to find the execution after a lost answer
    assert marker["name"] == "RELEASE_KIT_MIGRATION_ID" and re.fullmatch(r"[0-9a-f]{32}", marker["value"])
    assert len(container["env"]) == 2
    assert container["resources"] == {"cpu": 0.5, "memory": "1Gi"}
    assert report.log_url is not None and report.log_url.endswith("/jobs/agent-migrate/executions/agent-migrate-exec1")


def test_without_image_the_job_keeps_its_own(azure: FakeContainerApps) -> None:
    clock = ScriptedClock(lambda: azure.executions["agent-migrate-exec1"].update(status="Succeeded"))
    report = migrate(azure, clock)
    assert report.passed and azure.starts[0]["containers"][0]["image"] == JOB_IMAGE


def test_a_failed_execution_fails_and_is_not_started_again(azure: FakeContainerApps) -> None:
    clock = ScriptedClock(
        lambda: None,
        lambda: azure.executions["agent-migrate-exec1"].update(status="Failed", reason="BackoffLimitExceeded"),
    )
    report = migrate(azure, clock)
    assert not report.passed
    assert report.reason == "job execution agent-migrate-exec1 Failed: BackoffLimitExceeded"
    assert len(azure.starts) == 1


def test_no_job_configured_is_exit_2() -> None:
    settings = SETTINGS.model_copy(update={"migrations": SETTINGS.migrations.model_copy(update={"job": None})})
    with pytest.raises(InputError, match="no migration job"):
        run_migration(settings, ["x"], clock=ScriptedClock())


def test_a_start_answered_as_a_long_running_operation_is_followed(azure: FakeContainerApps) -> None:
    azure.async_start = True
    clock = ScriptedClock(lambda: azure.executions["agent-migrate-exec1"].update(status="Succeeded"))
    report = migrate(azure, clock)
    assert report.passed and report.task == "agent-migrate-exec1"


# -- answers lost after Azure started the execution (the start has no idempotency token) -----------------


def _succeed(fake: FakeContainerApps, execution: str = "agent-migrate-exec1") -> ScriptedClock:
    return ScriptedClock(lambda: fake.executions[execution].update(status="Succeeded"))


@pytest.mark.parametrize("lost_as", ["500", "reset"])
def test_a_start_whose_answer_was_lost_once_is_sent_once_and_its_execution_followed(
    azure: FakeContainerApps, lost_as: str, capsys: pytest.CaptureFixture[str]
) -> None:
    azure.lose_start, azure.lost_as = 1, lost_as
    report = migrate(azure, _succeed(azure))

    assert len(azure.starts) == 1  # azure-core did not re-send the POST (it would, for a 500, by default)
    assert report.passed and report.task == "agent-migrate-exec1"
    assert report.reason.endswith("(found by its RELEASE_KIT_MIGRATION_ID after Azure's answer to the start was lost)")
    assert report.log_url is not None and report.log_url.endswith("/jobs/agent-migrate/executions/agent-migrate-exec1")
    assert "following it, not starting another" in capsys.readouterr().err


@pytest.mark.parametrize("lost_as", ["500", "reset"])
def test_every_answer_lost_still_one_start_and_a_failing_execution_fails(
    azure: FakeContainerApps, lost_as: str
) -> None:
    azure.lose_start, azure.lost_as = 10**6, lost_as
    clock = ScriptedClock(lambda: azure.executions["agent-migrate-exec1"].update(status="Failed", reason="exit 1"))
    report = migrate(azure, clock)
    assert len(azure.starts) == 1 and len(azure.executions) == 1
    assert not report.passed and report.reason.startswith("job execution agent-migrate-exec1 Failed: exit 1")


def test_another_runs_execution_is_not_taken_for_ours(azure: FakeContainerApps) -> None:
    # an execution started a moment ago by someone else (same command, another marker), then our start is lost
    other = {
        "containers": [
            {"name": "migrate", "image": JOB_IMAGE, "command": ["starter-console", "release", "db"],
             "env": [{"name": "RELEASE_KIT_MIGRATION_ID", "value": "0" * 32}]},
        ]
    }  # fmt: skip
    azure.executions["agent-migrate-manual"] = {
        "status": "Running",
        "startTime": "2099-01-01T00:00:00Z",
        "template": other,
    }
    azure.refuse_start = True
    clock = ScriptedClock()
    with pytest.raises(RemoteGaveUp) as raised:
        migrate(azure, clock)
    message = raised.value.one_line()
    assert raised.value.exit_code == ExitCode.REMOTE
    assert "Azure failed to start job agent-migrate: HTTP 500 (sent once: not safe to re-send)" in message
    assert "the start may or may not have happened and release-kit did not send it again" in message
    assert "after 3 looks" in message
    assert "az containerapp job execution list --name agent-migrate --resource-group rg-prod" in message
    assert len(azure.starts) == 1 and azure.listings == 3 and len(clock.sleeps) == 2  # a short, bounded re-check


def test_a_lost_start_and_a_failing_listing_say_the_start_may_have_happened(azure: FakeContainerApps) -> None:
    azure.lose_start, azure.fail_listing = 1, True
    with pytest.raises(RemoteGaveUp, match="listing the job's executions failed too"):
        migrate(azure, ScriptedClock())
    assert len(azure.starts) == 1 and azure.listings > 1  # the GET keeps azure-core's retries; the start none


def test_an_execution_is_matched_by_command_image_and_start_time_when_azure_shows_no_variables() -> None:
    from datetime import UTC, datetime, timedelta

    from release_kit.platforms.container_apps.judge import is_our_execution
    from release_kit.platforms.container_apps.models import CaExecution

    sent = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    command = ["starter-console", "release", "db"]
    marker = ("RELEASE_KIT_MIGRATION_ID", "f" * 32)

    def execution(started: datetime, **container: object) -> CaExecution:
        entry = {"name": "migrate", "image": NEW, "command": command} | container
        return CaExecution.model_validate(
            {"name": "e", "startTime": started.isoformat(), "template": {"containers": [entry]}}
        )

    assert is_our_execution(execution(sent + timedelta(seconds=5)), "migrate", marker, command, NEW, sent)
    assert not is_our_execution(execution(sent - timedelta(minutes=10)), "migrate", marker, command, NEW, sent)
    assert not is_our_execution(execution(sent, image=JOB_IMAGE), "migrate", marker, command, NEW, sent)
    assert not is_our_execution(execution(sent, command=["other"]), "migrate", marker, command, NEW, sent)
    with_marker = execution(sent - timedelta(hours=1), env=[{"name": marker[0], "value": marker[1]}])
    assert is_our_execution(with_marker, "migrate", marker, command, NEW, sent)  # the marker decides
    not_ours = execution(sent, env=[{"name": marker[0], "value": "0" * 32}])
    assert not is_our_execution(not_ours, "migrate", marker, command, NEW, sent)


def test_a_202_start_whose_status_polls_keep_failing_is_found_and_followed(azure: FakeContainerApps) -> None:
    azure.async_start, azure.fail_operations = True, True
    report = migrate(azure, _succeed(azure))
    assert azure.operation_reads > 1  # the polls are GETs: azure-core retried them
    assert len(azure.starts) == 1 and report.passed and report.task == "agent-migrate-exec1"
    assert "found by its RELEASE_KIT_MIGRATION_ID" in report.reason
