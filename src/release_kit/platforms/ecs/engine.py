"""ECS (boto3): register a task definition revision with a new image, update the service and wait
for *our* deployment; run a migration as a one-off task of the API service and wait for its exit code.

Every call goes through :meth:`release_kit.clouds.aws.Aws.call`, named by its IAM action.

One migrate starts one task, whatever the network does: ``RunTask`` carries a ``clientToken`` made
once per migrate (botocore's retries resend it unchanged, and ECS answers a repeated token with the
task it already started) and a ``startedBy`` unique to the run. When every answer to ``RunTask`` is
lost, the task is looked up by that ``startedBy`` before giving up, and followed when found; it is
never started again. See docs/idempotency.md.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any
from urllib.parse import quote

from release_kit import gha
from release_kit.clouds.aws import Aws
from release_kit.errors import InputError, NotFoundError, ReleaseKitError, RemoteGaveUp
from release_kit.http import Clock
from release_kit.image_refs import ImageRef
from release_kit.platforms.ecs.judge import EcsMemory, judge_ecs_current, judge_ecs_rollout, judge_task, td_name
from release_kit.platforms.ecs.models import EcsService, EcsTask
from release_kit.rollout.models import Finding, RoleResult, Verdict, clean
from release_kit.rollout.waiting import POLL_INTERVAL, Deadline, wait_for
from release_kit.target.settings import Role, pick_container

STARTED_BY = "release-kit"  # the prefix of every migration task's startedBy
STARTED_BY_MAX = 36  # ECS: startedBy holds up to 36 letters, digits, hyphens and underscores
LOOKUPS = 3  # looks for a task whose RunTask answers were all lost (ListTasks is eventually consistent)


def run_ids() -> tuple[str, str]:
    """A fresh migration's ``clientToken`` (a UUID) and ``startedBy`` (``release-kit-`` + 24 hex of it)."""
    token = uuid.uuid4()
    started_by = f"{STARTED_BY}-{token.hex}"[:STARTED_BY_MAX]
    return str(token), started_by


def log_url(definition: dict[str, Any], container: str, task_arn: str, region: str) -> str | None:
    """The CloudWatch console URL of the task's log stream, when the container logs with awslogs."""
    config = definition.get("logConfiguration") or {}
    options = config.get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if config.get("logDriver") != "awslogs" or not group or not prefix:
        return None
    where = options.get("awslogs-region") or region
    stream = f"{prefix}/{container}/{task_arn.rsplit('/', 1)[-1]}"

    def enc(text: str) -> str:  # the console's own escaping: URL-encode, then '%' -> '$25'
        return quote(text, safe="").replace("%", "$25")

    return (
        f"https://{where}.console.aws.amazon.com/cloudwatch/home?region={where}"
        f"#logsV2:log-groups/log-group/{enc(group)}/log-events/{enc(stream)}"
    )


def run_task_params(
    cluster: str,
    service: EcsService,
    task_definition: str,
    container: str,
    command: list[str],
    *,
    started_by: str,
    client_token: str,
) -> dict[str, Any]:
    """RunTask for one migration task placed like ``service``: its capacity provider strategy (else its
    launch type), network configuration and platform version; ``container``'s command replaced; this
    run's ``startedBy`` and idempotency token."""
    params: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": task_definition,
        "count": 1,
        "startedBy": started_by,
        "clientToken": client_token,
        "overrides": {"containerOverrides": [{"name": container, "command": command}]},
    }
    if service.capacity_provider_strategy:
        params["capacityProviderStrategy"] = service.capacity_provider_strategy
    elif service.launch_type:
        params["launchType"] = service.launch_type
    if service.network_configuration:
        params["networkConfiguration"] = service.network_configuration
    if service.platform_version:
        params["platformVersion"] = service.platform_version
    return params


class EcsRollout:
    """One cluster's services, deployed and migrated through boto3."""

    def __init__(self, aws: Aws, cluster: str, *, clock: Clock, interval: float = POLL_INTERVAL) -> None:
        self.aws = aws
        self.cluster = cluster
        self.clock = clock
        self.interval = interval
        self.ecs = aws.client("ecs")

    # -- reading -----------------------------------------------------------------------

    def service(self, name: str) -> tuple[dict[str, Any], EcsService]:
        answer = self.aws.call(
            "ecs:DescribeServices", self.ecs.describe_services, cluster=self.cluster, services=[name]
        )
        found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
        if not found:
            raise NotFoundError(f"ECS cluster {self.cluster} has no active service {name!r} (deploy.services)")
        raw = found[0]
        return raw, EcsService.model_validate(raw)

    def current_image(self, role: Role, name: str, wanted_container: str | None) -> str | None:
        """The image ``role``'s container runs now (its service's task definition)."""
        raw, _ = self.service(name)
        definition, _ = self.task_definition(str(raw.get("taskDefinition") or ""))
        containers = list(definition.get("containerDefinitions") or [])
        where = f"task definition {td_name(str(definition.get('taskDefinitionArn') or ''))}"
        return str(pick_container(containers, wanted_container, role, where).get("image") or "") or None

    def task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        answer = self.aws.call(
            "ecs:DescribeTaskDefinition", self.ecs.describe_task_definition, taskDefinition=arn, include=["TAGS"]
        )
        return answer["taskDefinition"], list(answer.get("tags") or [])

    def register_with_image(
        self, definition: dict[str, Any], tags: list[dict[str, str]], container: str, image: str
    ) -> str:
        """A new revision equal to ``definition`` (every field RegisterTaskDefinition accepts, tags
        included) but for ``container``'s image; its ARN."""
        accepted = self.ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
        params = {k: v for k, v in definition.items() if k in accepted and k != "tags"}
        params["containerDefinitions"] = [
            {**c, "image": image} if c.get("name") == container else c for c in definition["containerDefinitions"]
        ]
        if tags:
            params["tags"] = tags
        answer = self.aws.call("ecs:RegisterTaskDefinition", self.ecs.register_task_definition, **params)
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    # -- deploy --------------------------------------------------------------------------

    def deploy(
        self, role: Role, name: str, wanted_container: str | None, image: ImageRef, timeout: float
    ) -> RoleResult:
        start = self.clock.now()
        raw, service = self.service(name)
        controller = (service.deployment_controller or {}).get("type", "ECS")
        if controller != "ECS":
            raise InputError(
                f"ECS service {name} uses the {controller} deployment controller; release-kit deploys "
                "ECS rolling updates only"
            )
        previous = service.task_definition
        definition, tags = self.task_definition(previous)
        container: str = pick_container(
            definition["containerDefinitions"], wanted_container, role, f"task definition {td_name(previous)}"
        )["name"]
        images = {str(c.get("name")): str(c.get("image")) for c in definition["containerDefinitions"]}
        result = RoleResult(
            role=role,
            service=name,
            container=container,
            image=str(image),
            previous_image=images.get(container),
            previous_images=images,
            previous=previous,
            verdict=Verdict.WAIT,
            reason="",
        )
        current = judge_ecs_current(service, images.get(container) == str(image))
        if current is not None:
            return result.model_copy(update={"new": previous, "verdict": current.verdict, "reason": current.reason})

        target = self.register_with_image(definition, tags, container, str(image))
        before = frozenset(d.id for d in service.deployments)
        answer = self.aws.call(
            "ecs:UpdateService", self.ecs.update_service, cluster=self.cluster, service=name, taskDefinition=target
        )
        memory = EcsMemory()
        first = EcsService.model_validate(answer.get("service") or raw)

        pending = [first]  # the first poll reads UpdateService's own answer

        def observe() -> Finding:
            nonlocal memory
            seen = pending.pop() if pending else self.service(name)[1]
            finding, memory = judge_ecs_rollout(before, target, seen, memory)
            return finding

        finding = wait_for(
            f"{role} ({name}) to run {td_name(target)}",
            observe,
            Deadline.after(self.clock, timeout),
            interval=self.interval,
        )
        return result.model_copy(
            update={
                "new": target,
                "deployment_id": memory.ours,
                "verdict": finding.verdict,
                "reason": finding.reason,
                "seconds": round(self.clock.now() - start, 2),
            }
        )

    # -- migrate -------------------------------------------------------------------------

    def migrate(
        self, name: str, wanted_container: str | None, command: list[str], image: ImageRef | None, deadline: Deadline
    ) -> dict[str, Any]:
        """Run ``command`` in one task of the API service's task definition (a new revision of it
        with ``image``), placed like the service; wait for it to stop. The report's fields."""
        _, service = self.service(name)
        definition, tags = self.task_definition(service.task_definition)
        container: str = pick_container(
            definition["containerDefinitions"],
            wanted_container,
            "api",
            f"task definition {td_name(service.task_definition)}",
        )["name"]
        task_definition = service.task_definition
        if image is not None:
            task_definition = self.register_with_image(definition, tags, container, str(image))
        token, started_by = run_ids()
        params = run_task_params(
            self.cluster, service, task_definition, container, command, started_by=started_by, client_token=token
        )
        recovered = ""
        try:
            answer = self.aws.call("ecs:RunTask", self.ecs.run_task, **params)
        except RemoteGaveUp as lost:  # the task may have started all the same: look before giving up
            answer = {"tasks": [self.find_started(started_by, lost, deadline)]}
            recovered = " (found by its startedBy after AWS lost every answer to ecs:RunTask)"
        tasks = answer.get("tasks") or []
        if not tasks:
            failures = "; ".join(
                clean(f"{f.get('arn', '')} {f.get('reason', '')}") for f in answer.get("failures") or []
            )
            return {
                "task_definition": task_definition,
                "verdict": Verdict.FAIL,
                "reason": f"ECS placed no task: {failures or 'no reason given'}",
            }
        task_arn = str(tasks[0]["taskArn"])
        definitions = {str(c.get("name")): c for c in definition["containerDefinitions"]}
        link = log_url(definitions[container], container, task_arn, self.aws.region)
        last: list[EcsTask | None] = [None]

        def observe() -> Finding:
            found = self.aws.call("ecs:DescribeTasks", self.ecs.describe_tasks, cluster=self.cluster, tasks=[task_arn])
            task = next((EcsTask.model_validate(t) for t in found.get("tasks") or []), None)
            last[0] = task
            return judge_task(task, container)

        finding = wait_for(f"migration task {task_arn.rsplit('/', 1)[-1]}", observe, deadline, interval=self.interval)
        exit_code = next((c.exit_code for c in (last[0].containers if last[0] else []) if c.name == container), None)
        return {
            "task_definition": task_definition,
            "task": task_arn,
            "exit_code": exit_code,
            "log_url": link,
            "verdict": finding.verdict,
            "reason": finding.reason + recovered,
        }

    def find_started(self, started_by: str, lost: RemoteGaveUp, deadline: Deadline) -> dict[str, Any]:
        """The task this migrate started, when AWS acted on RunTask but every answer was lost: looked up
        by its ``startedBy`` (RUNNING, then STOPPED) up to :data:`LOOKUPS` times. Not found, or not
        answered: exit 3 saying the task may or may not run and how to check. Never a second RunTask."""
        check = f"aws ecs list-tasks --cluster {self.cluster} --started-by {started_by} --desired-status STOPPED"
        unsure = f"{lost.message}; release-kit did not start it again"
        for look in range(1, LOOKUPS + 1):
            try:
                arns: list[str] = []
                for status in ("RUNNING", "STOPPED"):
                    listed = self.aws.call(
                        "ecs:ListTasks",
                        self.ecs.list_tasks,
                        cluster=self.cluster,
                        startedBy=started_by,
                        desiredStatus=status,
                    )
                    arns += [str(a) for a in listed.get("taskArns") or []]
                found = (
                    self.aws.call("ecs:DescribeTasks", self.ecs.describe_tasks, cluster=self.cluster, tasks=arns[:1])
                    if arns
                    else {}
                )
            except ReleaseKitError as again:  # gave up, denied (a missing read permission), refused
                raise RemoteGaveUp(
                    f"{unsure}; the migration task may or may not be running and looking for it failed too "
                    f"({again.one_line()})",
                    hint=f"check with `{check}` (and without --desired-status) before running migrate again",
                ) from None
            tasks = [t for t in found.get("tasks") or [] if t.get("startedBy") == started_by]
            if tasks:
                task = tasks[0]
                more = f" ({len(arns)} tasks carry it)" if len(arns) > 1 else ""
                gha.annotate(
                    "warning",
                    f"{lost.message}, but the migration task {str(task.get('taskArn', '')).rsplit('/', 1)[-1]} "
                    f"started by {started_by} is in cluster {self.cluster}{more}: following it, not starting another",
                    title="migration task found after lost answers",
                    stream=sys.stderr,
                )
                return dict(task)
            left = deadline.left()
            if look == LOOKUPS or left <= 0:
                break
            sys.stderr.write(
                gha.redact(
                    f"waiting for ECS to list the migration task started by {started_by}: not listed yet "
                    f"(look {look} of {LOOKUPS})"
                )
                + "\n"
            )
            self.clock.sleep(min(self.interval, left))
        raise RemoteGaveUp(
            f"{unsure}; no task started by {started_by} is in cluster {self.cluster} after {LOOKUPS} looks, "
            "so it most likely never started",
            hint=f"check with `{check}` (and without --desired-status) before running migrate again",
        )
