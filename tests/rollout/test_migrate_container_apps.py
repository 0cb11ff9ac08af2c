"""migrate on Azure Container Apps: an execution of the configured job, command and image overridden."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds.arm import Arm
from release_kit.errors import InputError
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
    assert container["env"] == [{"name": "DATABASE_URL", "secretRef": "database-url"}]  # the job's secrets stay
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
