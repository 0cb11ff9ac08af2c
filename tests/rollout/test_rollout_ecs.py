"""deploy on ECS, through moto's server over real HTTP, with ECS's rollouts played by EcsSimulator."""

from __future__ import annotations

import boto3
import pytest

from release_kit.rollout.deploy import deploy_images
from release_kit.rollout.images import parse_image
from release_kit.rollout.models import Verdict
from release_kit.target.settings import DeploySettings
from tests.fakes.aws import backend
from tests.fakes.ecs_rollout import CLUSTER, NEW, OLD, EcsSimulator, ScriptedClock

SETTINGS = DeploySettings.model_validate(
    {"platform": "ecs", "region": "us-east-1", "cluster": CLUSTER, "services": {"api": "agent-api", "web": "agent-web"}}
)
IMAGES = {"api": parse_image(NEW["api"]), "web": parse_image(NEW["web"])}


def test_a_completed_rollout_deploys_api_then_web_with_everything_else_unchanged(
    sim: EcsSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ScriptedClock(
        lambda: sim.progress(CLUSTER, "agent-api", running=1),
        lambda: sim.complete(CLUSTER, "agent-api"),
        lambda: sim.complete(CLUSTER, "agent-web"),
    )
    report = deploy_images(SETTINGS, IMAGES, 900, clock=clock)

    assert report.passed
    assert [(r.role, r.verdict) for r in report.roles] == [("api", Verdict.PASS), ("web", Verdict.PASS)]
    api = report.roles[0]
    assert api.previous_image == OLD["api"] and api.image == NEW["api"]
    assert api.previous is not None and api.previous.endswith("agent-api:1")
    assert api.new is not None and api.new.endswith("agent-api:2")
    assert "COMPLETED, 2/2 running" in api.reason
    assert report.deployed_images == {"api": NEW["api"], "web": NEW["web"]}

    ecs = boto3.client("ecs")
    answer = ecs.describe_task_definition(taskDefinition="agent-api:2", include=["TAGS"])
    new, old = answer["taskDefinition"], ecs.describe_task_definition(taskDefinition="agent-api:1")["taskDefinition"]
    assert answer["tags"] == [{"key": "team", "value": "platform"}]
    assert new["containerDefinitions"][0]["image"] == NEW["api"]
    assert new["containerDefinitions"][1] == old["containerDefinitions"][1]  # the sidecar keeps its image
    for key in ("taskRoleArn", "executionRoleArn", "cpu", "memory", "networkMode", "requiresCompatibilities"):
        assert new[key] == old[key], key
    assert {k: v for k, v in new["containerDefinitions"][0].items() if k != "image"} == {
        k: v for k, v in old["containerDefinitions"][0].items() if k != "image"
    }
    service = ecs.describe_services(cluster=CLUSTER, services=["agent-api"])["services"][0]
    assert service["taskDefinition"].endswith("agent-api:2")

    progress = capsys.readouterr().err
    assert "waiting for api (agent-api) to run agent-api:2: ECS has not started our deployment" in progress
    assert "IN_PROGRESS, running 1/2, pending 1" in progress and "s left)" in progress


def test_a_circuit_breaker_rollback_fails_the_deploy_and_web_is_not_touched(sim: EcsSimulator) -> None:
    reason = "tasks failed to start: CannotPullContainerError: pull access denied"
    clock = ScriptedClock(lambda: sim.fail(CLUSTER, "agent-api", reason))
    report = deploy_images(SETTINGS, IMAGES, 900, clock=clock)

    assert not report.passed
    api, web = report.roles
    assert api.verdict is Verdict.FAIL
    assert api.reason == f"rolled back by the deployment circuit breaker: {reason}"
    assert web.verdict is Verdict.SKIPPED and "api failed first" in web.reason
    assert backend("ecs").services[f"{CLUSTER}:agent-web"].task_definition.endswith("agent-web:1")
    assert report.deployed_images == {}


def test_the_sdk_waiter_calls_a_rolled_back_service_stable_while_deploy_fails_it(sim: EcsSimulator) -> None:
    reason = "tasks failed to start: essential container exited"

    def breaker() -> None:  # the whole rollback happens between two of our polls
        sim.fail(CLUSTER, "agent-api", reason)
        sim.roll_back(CLUSTER, "agent-api")

    report = deploy_images(SETTINGS, {"api": IMAGES["api"]}, 900, clock=ScriptedClock(breaker))
    assert report.roles[0].verdict is Verdict.FAIL
    assert report.roles[0].reason.startswith("rolled back by the deployment circuit breaker: ")
    assert "agent-api:1" in report.roles[0].reason or reason in report.roles[0].reason

    ecs = boto3.client("ecs")
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=["agent-api"], WaiterConfig={"Delay": 0, "MaxAttempts": 1}
    )  # returns: the false green
    assert ecs.describe_services(cluster=CLUSTER, services=["agent-api"])["services"][0]["taskDefinition"].endswith(
        "agent-api:1"
    )


def test_a_stuck_rollout_fails_at_the_deadline_naming_what_it_saw(
    sim: EcsSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ScriptedClock(lambda: sim.progress(CLUSTER, "agent-api", running=1))
    start = clock.now()
    report = deploy_images(SETTINGS, IMAGES, 60, clock=clock)

    api = report.roles[0]
    assert api.verdict is Verdict.FAIL
    assert api.reason.startswith("not done within 60s (--timeout): deployment ecs-svc/")
    assert "IN_PROGRESS, running 1/2" in api.reason
    assert clock.now() - start == 60 == api.seconds  # strict: the last sleep is cut to the deadline
    assert all(s <= 5 for s in clock.sleeps)
    assert capsys.readouterr().err.count("waiting for api") == len(clock.sleeps)


def test_the_same_image_again_is_a_pass_without_a_new_revision(sim: EcsSimulator) -> None:
    report = deploy_images(SETTINGS, {"api": parse_image(OLD["api"])}, 900, clock=ScriptedClock())
    assert report.passed and "already running" in report.roles[0].reason
    assert 2 not in backend("ecs").task_definitions["agent-api"]


def test_a_missing_service_is_exit_2_before_anything_changes(sim: EcsSimulator) -> None:
    from release_kit.errors import NotFoundError

    settings = SETTINGS.with_overrides(services={"api": "agent-api", "web": "no-such-web"})
    with pytest.raises(NotFoundError, match="no active service 'no-such-web'"):
        deploy_images(settings, {"web": IMAGES["web"]}, 900, clock=ScriptedClock())
