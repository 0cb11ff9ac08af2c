"""The pure ECS judges: rolling deployments and one-off tasks."""

from __future__ import annotations

from typing import Any

import pytest

from release_kit.platforms.ecs.judge import EcsMemory, judge_ecs_current, judge_ecs_rollout, judge_task
from release_kit.platforms.ecs.models import EcsService, EcsTask
from release_kit.rollout.models import Verdict

OLD_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/agent-api:7"
NEW_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/agent-api:8"
BEFORE = frozenset({"ecs-svc/old"})


def dep(ident: str, td: str, status: str = "PRIMARY", state: str | None = "IN_PROGRESS", **kw: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "status": status,
        "taskDefinition": td,
        "desiredCount": kw.pop("desired", 2),
        "runningCount": kw.pop("running", 0),
        "pendingCount": kw.pop("pending", 0),
        "failedTasks": kw.pop("failed", 0),
        "rolloutState": state,
        "rolloutStateReason": kw.pop("reason", None),
    }


def svc(*deployments: dict[str, Any]) -> EcsService:
    return EcsService.model_validate({"serviceName": "agent-api", "deployments": list(deployments)})


OLD_STEADY = dep("ecs-svc/old", OLD_TD, state="COMPLETED", running=2)


def test_before_ecs_shows_our_deployment_we_wait() -> None:
    finding, memory = judge_ecs_rollout(BEFORE, NEW_TD, svc(OLD_STEADY), EcsMemory())
    assert finding.verdict is Verdict.WAIT and "has not started our deployment of agent-api:8" in finding.reason
    assert memory.ours is None


def test_our_primary_completed_with_all_tasks_running_passes() -> None:
    finding, memory = judge_ecs_rollout(
        BEFORE, NEW_TD, svc(dep("ecs-svc/new", NEW_TD, state="COMPLETED", running=2)), EcsMemory()
    )
    assert finding.verdict is Verdict.PASS and memory.ours == "ecs-svc/new"


def test_without_rollout_state_ours_alone_and_full_passes() -> None:
    alone = svc(dep("ecs-svc/new", NEW_TD, state=None, running=2))
    assert judge_ecs_rollout(BEFORE, NEW_TD, alone, EcsMemory())[0].verdict is Verdict.PASS
    draining = svc(dep("ecs-svc/new", NEW_TD, state=None, running=2), {**OLD_STEADY, "status": "ACTIVE"})
    assert judge_ecs_rollout(BEFORE, NEW_TD, draining, EcsMemory())[0].verdict is Verdict.WAIT


def test_completed_but_short_of_tasks_waits() -> None:
    finding, _ = judge_ecs_rollout(
        BEFORE, NEW_TD, svc(dep("ecs-svc/new", NEW_TD, state="COMPLETED", running=1, pending=1)), EcsMemory()
    )
    assert finding.verdict is Verdict.WAIT and "running 1/2, pending 1" in finding.reason


def test_in_progress_waits_and_names_failed_tasks() -> None:
    state = svc(dep("ecs-svc/new", NEW_TD, running=1, failed=2), {**OLD_STEADY, "status": "ACTIVE"})
    finding, memory = judge_ecs_rollout(BEFORE, NEW_TD, state, EcsMemory())
    assert finding.verdict is Verdict.WAIT and "2 failed task(s)" in finding.reason
    assert memory.ours == "ecs-svc/new"


def test_our_deployment_failed_is_the_circuit_breaker_with_its_reason() -> None:
    state = svc(
        dep("ecs-svc/rollback", OLD_TD),
        dep("ecs-svc/new", NEW_TD, status="ACTIVE", state="FAILED", reason="tasks failed to start"),
    )
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, state, EcsMemory(ours="ecs-svc/new"))
    assert finding.verdict is Verdict.FAIL
    assert finding.reason == "rolled back by the deployment circuit breaker: tasks failed to start"


def test_our_deployment_vanishing_fails_with_the_last_reason_seen() -> None:
    memory = EcsMemory(ours="ecs-svc/new", reason="ECS deployment circuit breaker: tasks failed to start.")
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, svc(dep("ecs-svc/rb", OLD_TD, state="COMPLETED", running=2)), memory)
    assert finding.verdict is Verdict.FAIL
    assert finding.reason.endswith(": ECS deployment circuit breaker: tasks failed to start.")


def test_a_steady_service_back_on_the_old_revision_is_a_fail_not_a_pass() -> None:
    """What services_stable accepts: one deployment, running == desired. Ours never seen."""
    steady_again = svc(dep("ecs-svc/rollback", OLD_TD, state="COMPLETED", running=2))
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, steady_again, EcsMemory())
    assert finding.verdict is Verdict.FAIL
    assert "the PRIMARY deployment reverted to agent-api:7" in finding.reason


def test_a_primary_reverting_while_ours_is_still_listed_fails() -> None:
    state = svc(dep("ecs-svc/rb", OLD_TD), dep("ecs-svc/new", NEW_TD, status="ACTIVE"))
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, state, EcsMemory(ours="ecs-svc/new"))
    assert finding.verdict is Verdict.FAIL and "reverted to agent-api:7" in finding.reason


def test_our_deployment_not_yet_primary_waits() -> None:
    state = svc(OLD_STEADY | {"id": "ecs-svc/old"}, dep("ecs-svc/new", NEW_TD, status="ACTIVE"))
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, state, EcsMemory())
    assert finding.verdict is Verdict.WAIT and "not yet PRIMARY" in finding.reason


def test_remote_reason_text_cannot_break_the_line() -> None:
    state = svc(dep("ecs-svc/new", NEW_TD, state="FAILED", reason="bad\n::error::forged\r\nline"))
    finding, _ = judge_ecs_rollout(BEFORE, NEW_TD, state, EcsMemory())
    assert "\n" not in finding.reason and "\r" not in finding.reason


def test_an_unchanged_steady_service_is_already_running() -> None:
    assert judge_ecs_current(svc(OLD_STEADY), image_matches=True) is not None
    assert judge_ecs_current(svc(OLD_STEADY), image_matches=False) is None
    assert judge_ecs_current(svc(dep("ecs-svc/old", OLD_TD, running=1)), image_matches=True) is None


# -- one-off tasks -----------------------------------------------------------------------------


def task(status: str, **container: Any) -> EcsTask:
    return EcsTask.model_validate(
        {
            "taskArn": "arn:aws:ecs:us-east-1:1:task/prod/abc",
            "lastStatus": status,
            "stoppedReason": "Essential container in task exited",
            "containers": [{"name": "api", **container}, {"name": "log-router", "exitCode": 0}],
        }
    )


@pytest.mark.parametrize(
    ("given", "verdict", "reason"),
    [
        (task("RUNNING"), Verdict.WAIT, "task abc is RUNNING"),
        (task("STOPPED", exitCode=0), Verdict.PASS, "container api exited 0"),
        (task("STOPPED", exitCode=3), Verdict.FAIL, "container api exited 3 (Essential container in task exited)"),
        (task("STOPPED"), Verdict.FAIL, "container api has no exit code: Essential container in task exited"),
        (None, Verdict.FAIL, "ECS no longer knows the task"),
    ],
)
def test_the_task_verdict_is_the_api_containers_exit_code(given: EcsTask | None, verdict: Verdict, reason: str) -> None:
    finding = judge_task(given, "api")
    assert finding.verdict is verdict and finding.reason.startswith(reason)
