"""Pure judgement of an ECS rolling deployment and a one-off task: facts in, a finding out.

No I/O here, so most tests sit on these functions. A judge says ``pass``, ``fail`` or ``wait``
with a reason a person can act on; the waiting loop turns a deadline into a fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from release_kit.platforms.ecs.models import EcsDeployment, EcsService, EcsTask
from release_kit.rollout.models import Finding, clean
from release_kit.rollout.models import failed as _fail
from release_kit.rollout.models import passed as _pass
from release_kit.rollout.models import waiting as _wait

CIRCUIT_BREAKER = "rolled back by the deployment circuit breaker"


def td_name(arn: str) -> str:
    """``family:revision`` of a task definition ARN (or of a bare ``family:revision``)."""
    return arn.rsplit("/", 1)[-1]


# -- ECS rolling deployment ----------------------------------------------------------------


@dataclass(frozen=True)
class EcsMemory:
    """What earlier polls saw: our deployment's id once found, whether it was PRIMARY, its last reason."""

    ours: str | None = None
    reason: str | None = None
    was_primary: bool = False


def _progress(d: EcsDeployment) -> str:
    state = d.rollout_state or "no rolloutState"
    failed = f", {d.failed_tasks} failed task(s)" if d.failed_tasks else ""
    return f"{state}, running {d.running_count}/{d.desired_count}, pending {d.pending_count}{failed}"


def _rolled_back(memory: EcsMemory, fallback: str) -> Finding:
    return _fail(f"{CIRCUIT_BREAKER}: {clean(memory.reason or fallback)}")


def judge_ecs_rollout(
    before: frozenset[str], target: str, service: EcsService, memory: EcsMemory
) -> tuple[Finding, EcsMemory]:
    """Is the service's PRIMARY deployment the one we started (a deployment id not in ``before``,
    running task definition ``target``), COMPLETED with ``runningCount == desiredCount``?

    Our deployment vanishing or FAILED, or a new PRIMARY on another task definition, is the
    circuit breaker's rollback: a fail, never a pass because the service is steady again.
    """
    want = td_name(target)
    ours: EcsDeployment | None = None
    if memory.ours is not None:
        ours = next((d for d in service.deployments if d.id == memory.ours), None)
        if ours is None:
            return _rolled_back(memory, f"our deployment {memory.ours} is gone"), memory
    else:
        mine = [d for d in service.deployments if d.id not in before and td_name(d.task_definition) == want]
        ours = next((d for d in mine if d.status == "PRIMARY"), mine[0] if mine else None)
    if ours is not None:
        memory = EcsMemory(
            ours=ours.id,
            reason=ours.rollout_state_reason or memory.reason,
            was_primary=memory.was_primary or ours.status == "PRIMARY",
        )
    primary = service.primary

    if ours is not None and ours.rollout_state == "FAILED":
        return _rolled_back(memory, f"deployment {ours.id} FAILED"), memory
    if (
        primary is not None
        and td_name(primary.task_definition) != want
        and (memory.was_primary or primary.id not in before)
    ):
        note = f"the PRIMARY deployment reverted to {td_name(primary.task_definition)}"
        return _rolled_back(memory, note), memory
    if ours is None:
        now = td_name(primary.task_definition) if primary else "none"
        return _wait(f"ECS has not started our deployment of {want} yet (PRIMARY runs {now})"), memory
    if ours.status != "PRIMARY":
        return _wait(f"our deployment {ours.id} is {ours.status or 'not PRIMARY'}, not yet PRIMARY"), memory
    if ours.rollout_state == "COMPLETED" and ours.running_count == ours.desired_count:
        return _pass(
            f"deployment {ours.id} of {want} COMPLETED, {ours.running_count}/{ours.desired_count} running"
        ), memory
    steady = ours.running_count == ours.desired_count and len(service.deployments) == 1
    if ours.rollout_state is None and steady:  # no rolloutState (e.g. a Classic Load Balancer): steady alone
        return _pass(
            f"deployment {ours.id} of {want} is the only one, {ours.running_count}/{ours.desired_count} running"
        ), memory
    return _wait(f"deployment {ours.id} of {want}: {_progress(ours)}"), memory


def judge_ecs_current(service: EcsService, image_matches: bool) -> Finding | None:
    """The service already runs the image, steady: nothing to deploy (a pass), else None."""
    primary = service.primary
    if not image_matches or primary is None or len(service.deployments) != 1:
        return None
    if primary.rollout_state in (None, "COMPLETED") and primary.running_count == primary.desired_count:
        return _pass(f"already running this image ({td_name(primary.task_definition)}, steady); nothing deployed")
    return None


# -- ECS one-off task --------------------------------------------------------------------------


def judge_task(task: EcsTask | None, container: str) -> Finding:
    """The migration task's verdict: its container's exit code once STOPPED."""
    if task is None:
        return _fail("ECS no longer knows the task (it stopped long ago or was never placed)")
    if task.last_status != "STOPPED":
        return _wait(f"task {task.task_arn.rsplit('/', 1)[-1]} is {task.last_status or 'starting'}")
    found = next((c for c in task.containers if c.name == container), None)
    stopped = clean(task.stopped_reason or task.stop_code or "no reason given")
    if found is None or found.exit_code is None:
        detail = f"; container: {clean(found.reason)}" if found and found.reason else ""
        return _fail(f"container {container} has no exit code: {stopped}{detail}")
    if found.exit_code == 0:
        return _pass(f"container {container} exited 0")
    return _fail(f"container {container} exited {found.exit_code} ({stopped})")
