"""What the deploy identity must be allowed on ECS, and whether it is: IAM's policy simulator
(``iam:SimulatePrincipalPolicy``) answers for the role the job runs as, on the resources the config
names. The one list of actions: ``release-kit init`` prints its policy from :data:`ACTIONS` too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from release_kit.clouds.aws import Aws
from release_kit.preflight.models import Check, Verdict
from release_kit.target.settings import DeploySettings

ACTIONS: dict[str, list[str]] = {
    "preflight (read-only)": [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "application-autoscaling:DescribeScalableTargets",
        "secretsmanager:DescribeSecret",
        "ssm:DescribeParameters",
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
        "elasticache:DescribeReplicationGroups",
        "elasticache:DescribeCacheClusters",
        "elasticache:DescribeServerlessCaches",
    ],
    "migrate, deploy, rollback": [
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "ecs:RunTask",
        "ecs:DescribeTasks",
        "ecs:ListTasks",
        "ecs:TagResource",
        "ecr:DescribeImages",
        "rds:CreateDBSnapshot",
        "rds:CreateDBClusterSnapshot",
        "rds:AddTagsToResource",
        "rds:DescribeDBSnapshots",
        "rds:DescribeDBClusterSnapshots",
        "iam:PassRole",
    ],
}
PASSED_TO = "ecs-tasks.amazonaws.com"
_ASSUMED = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[^/]+\Z")


@dataclass(frozen=True)
class Need:
    """One action the rollout makes, on one resource (``*`` where the action takes no resource)."""

    action: str
    resource: str
    why: str


def _arn(partition: str, service: str, region: str, account: str, rest: str) -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{rest}"


def needs(settings: DeploySettings, *, partition: str, region: str, account: str, roles: list[str]) -> list[Need]:
    """Every action migrate, deploy and rollback make, on the resources the config names."""
    cluster = settings.require_cluster().rsplit("/", 1)[-1]
    found: list[Need] = []
    for role, service in settings.services.items():
        arn = _arn(partition, "ecs", region, account, f"service/{cluster}/{service.rsplit('/', 1)[-1]}")
        found += [
            Need("ecs:DescribeServices", arn, f"deploy reads the {role} service"),
            Need("ecs:UpdateService", arn, f"deploy and rollback roll the {role} service"),
        ]
    found += [
        Need("ecs:DescribeTaskDefinition", "*", "deploy copies the running task definition"),
        Need("ecs:RegisterTaskDefinition", "*", "deploy registers a revision with the new image"),
        Need("ecs:TagResource", "*", "the new revision is tagged"),
        Need("ecs:RunTask", "*", "migrate runs the migration as a one-off task"),
        Need("ecs:ListTasks", "*", "migrate finds its task again after a lost answer"),
        Need("ecs:DescribeTasks", "*", "migrate follows its task to its exit code"),
    ]
    for task_role in roles:
        found.append(Need("iam:PassRole", task_role, "a new revision keeps the service's task and execution roles"))
    database = settings.backups.database
    if database is not None and database.kind == "rds_instance":
        db = _arn(partition, "rds", region, account, f"db:{database.name}")
        snap = _arn(partition, "rds", region, account, "snapshot:release-kit-*")
        found += [
            Need("rds:CreateDBSnapshot", db, "migrate --snapshot snapshots the database"),
            Need("rds:CreateDBSnapshot", snap, "the snapshot is named release-kit-<tag>-<time>"),
            Need("rds:AddTagsToResource", snap, "the snapshot is created with tags"),
            Need("rds:DescribeDBSnapshots", snap, "migrate waits for the snapshot"),
        ]
    if database is not None and database.kind == "rds_cluster":
        db = _arn(partition, "rds", region, account, f"cluster:{database.name}")
        snap = _arn(partition, "rds", region, account, "cluster-snapshot:release-kit-*")
        found += [
            Need("rds:CreateDBClusterSnapshot", db, "migrate --snapshot snapshots the cluster"),
            Need("rds:CreateDBClusterSnapshot", snap, "the snapshot is named release-kit-<tag>-<time>"),
            Need("rds:AddTagsToResource", snap, "the snapshot is created with tags"),
            Need("rds:DescribeDBClusterSnapshots", snap, "migrate waits for the snapshot"),
        ]
    for role, repository in settings.images.items():
        host, _, name = repository.partition("/")
        if host.endswith(".amazonaws.com") and ".dkr.ecr." in host:
            repo_account, repo_region = host.split(".")[0], host.split(".")[3]
            arn = _arn(partition, "ecr", repo_region, repo_account, f"repository/{name}")
            found.append(Need("ecr:DescribeImages", arn, f"rollback checks the {role} digests exist"))
    return found


def principal(aws: Aws) -> tuple[str, str, str]:
    """(the policy source ARN of the identity this job runs as, its partition, its account)."""
    sts = aws.client("sts")
    arn = str(aws.call("sts:GetCallerIdentity", sts.get_caller_identity)["Arn"])
    assumed = _ASSUMED.match(arn)
    if assumed is None:
        parts = arn.split(":")
        return arn, parts[1], parts[4]
    partition, account, name = assumed.groups()
    iam = aws.client("iam")
    try:  # the role's own ARN carries its path, which the assumed-role ARN leaves out
        return str(iam.get_role(RoleName=name)["Role"]["Arn"]), partition, account
    except Exception:
        return f"arn:{partition}:iam::{account}:role/{name}", partition, account


def task_roles(aws: Aws, settings: DeploySettings) -> list[str]:
    """The task and execution roles the running services' task definitions pass (none when unreadable)."""
    ecs = aws.client("ecs")
    roles: list[str] = []
    names = list(settings.services.values())
    if not names:
        return roles
    try:
        services = aws.call(
            "ecs:DescribeServices", ecs.describe_services, cluster=settings.require_cluster(), services=names
        )
        for service in services.get("services", []):
            td = aws.call(
                "ecs:DescribeTaskDefinition", ecs.describe_task_definition, taskDefinition=service["taskDefinition"]
            )["taskDefinition"]
            roles += [td[k] for k in ("taskRoleArn", "executionRoleArn") if td.get(k)]
    except Exception:
        return []
    return list(dict.fromkeys(roles))


def statement(need: Need) -> str:
    """The IAM statement that allows ``need``, to paste into the deploy role's policy."""
    body: dict[str, Any] = {"Effect": "Allow", "Action": need.action, "Resource": need.resource}
    if need.action == "iam:PassRole":
        body["Condition"] = {"StringEquals": {"iam:PassedToService": PASSED_TO}}
    return json.dumps(body, separators=(", ", ": "))


def _decisions(aws: Aws, source: str, needs_: list[Need]) -> dict[tuple[str, str], str]:
    iam = aws.client("iam")
    found: dict[tuple[str, str], str] = {}
    by_resource: dict[str, list[str]] = {}
    for need in needs_:
        by_resource.setdefault(need.resource, []).append(need.action)
    for resource, actions in by_resource.items():
        request: dict[str, Any] = {"PolicySourceArn": source, "ActionNames": sorted(set(actions))}
        if resource != "*":
            request["ResourceArns"] = [resource]
        if "iam:PassRole" in actions:
            request["ContextEntries"] = [
                {"ContextKeyName": "iam:PassedToService", "ContextKeyValues": [PASSED_TO], "ContextKeyType": "string"}
            ]
        while True:
            answer = aws.call("iam:SimulatePrincipalPolicy", iam.simulate_principal_policy, **request)
            for result in answer.get("EvaluationResults", []):
                found[(result["EvalActionName"], resource)] = str(result["EvalDecision"])
            if not answer.get("IsTruncated"):
                break
            request["Marker"] = answer["Marker"]
    return found


def check(settings: DeploySettings, aws: Aws) -> list[Check]:
    """One row per action and resource: allowed (pass), or denied with the statement to add (fail)."""
    from release_kit.errors import AccessError

    source, partition, account = principal(aws)
    wanted = needs(settings, partition=partition, region=aws.region, account=account, roles=task_roles(aws, settings))
    try:
        decisions = _decisions(aws, source, wanted)
    except AccessError:
        return [
            Check(
                check="access",
                subject=source,
                verdict=Verdict.UNKNOWN,
                reason="IAM's policy simulator could not be asked: iam:SimulatePrincipalPolicy is denied",
                fix=f"allow iam:SimulatePrincipalPolicy on {source} (it reads policies, changes nothing)",
            )
        ]
    rows: list[Check] = []
    for need in wanted:
        decision = decisions.get((need.action, need.resource), "unknown")
        subject = need.action if need.resource == "*" else f"{need.action} on {need.resource}"
        if decision == "allowed":
            rows.append(Check(check="access", subject=subject, verdict=Verdict.PASS, reason=f"allowed: {need.why}"))
            continue
        denied = {"explicitDeny": "explicitly denied by a policy", "implicitDeny": "no statement allows it"}
        rows.append(
            Check(
                check="access",
                subject=subject,
                verdict=Verdict.FAIL if decision in denied else Verdict.UNKNOWN,
                reason=f"{denied.get(decision, 'the simulator gave no answer')} for {source}: {need.why}",
                fix=f"add to the deploy role's policy: {statement(need)}"
                + (" (and remove the Deny that matches it)" if decision == "explicitDeny" else ""),
            )
        )
    return rows
