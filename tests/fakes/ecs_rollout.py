"""What ECS does and moto does not: deployments that roll out, roll back or hang, and one-off
tasks that stop with an exit code.

moto 5.2.5 records ``UpdateService``'s task definition on the service but starts no deployment,
and its tasks walk to ``STOPPED`` with ``exitCode`` 0 whatever ran. :class:`EcsSimulator` works on
moto's in-process backend (the same one ``ThreadedMotoServer`` serves) and changes it the way ECS
would, one documented step at a time:

- :meth:`start` creates the deployment ECS makes on ``UpdateService`` (a new id, PRIMARY,
  ``IN_PROGRESS``, the new task definition); the old PRIMARY becomes ACTIVE.
- :meth:`complete`: our deployment COMPLETED with ``runningCount == desiredCount``; the old ones gone.
- :meth:`fail` and :meth:`roll_back`: the deployment circuit breaker. First our deployment turns
  ``FAILED`` with a ``rolloutStateReason`` and a rollback deployment of the old task definition
  becomes PRIMARY; then ours is removed and the rollback completes (the service is steady again, on
  the old revision: what the SDK's ``services_stable`` waiter calls success).
- Doing nothing after :meth:`start` leaves the rollout stuck ``IN_PROGRESS``.
- While the simulator is open one-off tasks stay ``RUNNING`` until :meth:`stop_task` stops them
  with an exit code, or with none and a ``stoppedReason`` (as when an image cannot be pulled).

Tests drive it from the fake clock's sleep (:class:`ScriptedClock`), so each poll of the code under
test sees the next step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.aws import REGION, backend, moto_aws
from tests.fakes.clock import FakeClock

_ids = itertools.count(1)


class EcsSimulator:
    def __init__(self, region: str = REGION) -> None:
        from moto.moto_api import state_manager

        self.ecs = backend("ecs", region=region)
        self._old: dict[str, dict[str, Any]] = {}
        state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})

    def close(self) -> None:
        from moto.moto_api import state_manager

        state_manager.unset_transition("ecs::task")

    def __enter__(self) -> EcsSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services -------------------------------------------------------------------------

    def service(self, cluster: str, name: str) -> Any:
        return self.ecs.services[f"{cluster}:{name}"]

    def arn(self, ref: str) -> str:
        return str(self.ecs.describe_task_definition(ref).arn)

    def _new(self, service: Any, task_definition: str, state: str = "IN_PROGRESS") -> dict[str, Any]:
        now = datetime.now(UTC)
        ident = f"ecs-svc/{9000000000000000000 + next(_ids)}"
        base = dict(service.deployments[0]) if service.deployments else {}
        return base | {
            "id": ident,
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "desiredCount": service.desired_count,
            "runningCount": 0,
            "pendingCount": service.desired_count,
            "failedTasks": 0,
            "rolloutState": state,
            "rolloutStateReason": f"ECS deployment {ident} in progress.",
            "createdAt": now,
            "updatedAt": now,
        }

    def start(self, cluster: str, name: str) -> dict[str, Any]:
        """The deployment ECS starts on UpdateService (idempotent: returns it if it exists)."""
        service = self.service(cluster, name)
        wanted = self.arn(service.task_definition)
        primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
        if primary["taskDefinition"] == wanted:
            return primary  # type: ignore[no-any-return]
        self._old[f"{cluster}:{name}"] = dict(primary)
        primary["status"] = "ACTIVE"
        ours = self._new(service, wanted)
        service.deployments.insert(0, ours)
        return ours

    def progress(self, cluster: str, name: str, running: int) -> None:
        ours = self.start(cluster, name)
        ours.update(runningCount=running, pendingCount=max(0, ours["desiredCount"] - running))

    def complete(self, cluster: str, name: str) -> None:
        service = self.service(cluster, name)
        ours = self.start(cluster, name)
        ours.update(
            runningCount=ours["desiredCount"],
            pendingCount=0,
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {ours['id']} completed.",
        )
        service.deployments[:] = [ours]
        service.running_count, service.pending_count = service.desired_count, 0

    def fail(self, cluster: str, name: str, reason: str) -> None:
        """The circuit breaker trips: ours FAILED, a rollback deployment of the old revision PRIMARY."""
        service = self.service(cluster, name)
        ours = self.start(cluster, name)
        old = self._old[f"{cluster}:{name}"]
        ours.update(status="ACTIVE", rolloutState="FAILED", rolloutStateReason=reason, failedTasks=3)
        rollback = self._new(service, old["taskDefinition"])
        rollback["rolloutStateReason"] = f"ECS deployment circuit breaker: rolling back to deployment {old['id']}."
        service.deployments[:] = [rollback, ours]
        service.task_definition = old["taskDefinition"]

    def roll_back(self, cluster: str, name: str) -> None:
        """The rollback completes: our deployment gone, the old revision steady and PRIMARY."""
        service = self.service(cluster, name)
        rollback = next(d for d in service.deployments if d["status"] == "PRIMARY")
        rollback.update(runningCount=rollback["desiredCount"], pendingCount=0, rolloutState="COMPLETED")
        service.deployments[:] = [rollback]
        service.running_count, service.pending_count = service.desired_count, 0

    # -- one-off tasks -----------------------------------------------------------------------

    def tasks(self, cluster: str) -> list[Any]:
        return list(self.ecs.tasks.get(cluster, {}).values())

    def stop_task(self, cluster: str, exit_code: int | None, reason: str = "Essential container in task exited") -> Any:
        """Stop the newest task like ECS: STOPPED, the container's exit code (or none), a stoppedReason."""
        task = self.tasks(cluster)[-1]
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stopped_reason = reason
        for container in task.containers:
            container.last_status = "STOPPED"
            container.exitCode = exit_code
        return task


class ScriptedClock(FakeClock):
    """A fake clock whose n-th sleep runs the n-th step (then nothing): the test's ECS."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        super().__init__()
        self.steps = list(steps)

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.steps:
            self.steps.pop(0)()


CLUSTER = "prod"
OLD = {
    "api": "registry.example.com/app/api@sha256:" + "1" * 64,
    "web": "registry.example.com/app/web@sha256:" + "2" * 64,
}
NEW = {
    "api": "registry.example.com/app/api:1.4.0@sha256:" + "a" * 64,
    "web": "registry.example.com/app/web@sha256:" + "b" * 64,
}


def seed_ecs(*, desired: int = 2) -> dict[str, str]:
    """Through boto3 (moto's server): a cluster ``prod`` with Fargate services ``agent-api`` and
    ``agent-web``, steady on their old images; the API task definition has a log-router sidecar,
    awslogs logging, roles and tags. Returns the subnet and security group."""
    import boto3

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's RunTask needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    for role in ("api", "web"):
        containers: list[dict[str, Any]] = [
            {
                "name": role,
                "image": OLD[role],
                "essential": True,
                "memory": 768,  # moto's RunTask adds up container memory
                "environment": [{"name": "AUTO_RUN_MIGRATIONS", "value": "false"}],
                "secrets": [
                    {"name": "DATABASE_URL", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/ecs/agent-{role}",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "app",
                    },
                },
            }
        ]
        if role == "api":
            containers.append(
                {
                    "name": "log-router",
                    "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0",
                    "memory": 128,
                    "essential": False,
                }
            )
        ecs.register_task_definition(
            family=f"agent-{role}",
            containerDefinitions=containers,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="512",
            memory="1024",
            taskRoleArn=f"arn:aws:iam::123456789012:role/agent-{role}-task",
            executionRoleArn="arn:aws:iam::123456789012:role/ecs-execution",
            tags=[{"key": "team", "value": "platform"}],
        )
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=f"agent-{role}",
            taskDefinition=f"agent-{role}:1",
            desiredCount=desired,
            launchType="FARGATE",
            platformVersion="1.4.0",
            networkConfiguration=network,
        )
        service = backend("ecs").services[f"{CLUSTER}:agent-{role}"]  # steady on the old revision
        service.deployments[0].update(runningCount=desired, pendingCount=0, rolloutState="COMPLETED")
        service.running_count, service.pending_count = desired, 0
    return {"subnet": subnet, "security_group": group}


@contextmanager
def moto_session() -> Iterator[str]:
    """moto's server for a whole test module (starting and stopping one costs about a second);
    :func:`fresh_ecs` gives each test a clean ECS and RDS."""
    with pytest.MonkeyPatch.context() as patch, moto_aws(patch) as url:
        yield url


@contextmanager
def fresh_ecs() -> Iterator[EcsSimulator]:
    from moto.backends import get_backend

    for service in ("ecs", "rds"):
        get_backend(service).reset()  # type: ignore[attr-defined]
    seed_ecs()
    with EcsSimulator() as simulator:
        yield simulator
