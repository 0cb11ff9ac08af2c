"""AWS ECS/Fargate -> preflight facts, through boto3 (read-only, metadata only).

Calls are batched where the API allows (``DescribeServices`` up to 10 services, one
``DescribeScalableTargets`` for every service, ``DescribeParameters`` up to 50 names) and made
concurrently where independent, in three rounds: services + autoscaling + database + Redis, then
the task definitions, then the secrets' metadata. No secret value is ever read: Secrets Manager
``DescribeSecret`` and SSM ``DescribeParameters`` return metadata only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from release_kit.clouds.aws import Aws
from release_kit.errors import InputError, NotFoundError
from release_kit.parallel import run_parallel
from release_kit.platforms.files import load_json_file
from release_kit.preflight.facts import Container, DatabaseBackup, Facts, RedisBackup, SecretMeta, SecretRef, Service
from release_kit.target.settings import ROLES, DeploySettings, Role, pick_container

SERVICES_PER_CALL = 10  # DescribeServices
NAMES_PER_CALL = 50  # DescribeParameters ParameterStringFilter values
SECRETS_MANAGER = "Secrets Manager"
SSM = "SSM Parameter Store"
WORKERS = 8


# -- inputs -----------------------------------------------------------------------------


def task_definition_from_file(path: Path, role: str) -> dict[str, Any]:
    """``aws ecs describe-task-definition`` output (``{"taskDefinition": ...}``) or a bare task definition."""
    data = load_json_file(path, "--task-definition", role)
    td = data.get("taskDefinition", data)
    if not isinstance(td, dict) or not isinstance(td.get("containerDefinitions"), list):
        raise InputError(
            f"--task-definition {role}={path}: expected a task definition with containerDefinitions "
            "(as aws ecs describe-task-definition or the ECS render action writes it)"
        )
    return td


def _revision_label(td: dict[str, Any], fallback: str) -> str:
    if td.get("taskDefinitionArn"):
        return str(td["taskDefinitionArn"]).rsplit("/", 1)[-1]
    if td.get("family"):
        return f"{td['family']}:{td.get('revision', 'new')}"
    return fallback


def _entries(container: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``container[key]`` as a list of objects, whatever a hand-edited file holds there."""
    value = container.get(key)
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _secret_ref(value_from: Any) -> SecretRef:
    """A ``secrets`` entry's reference; one with no ``valueFrom`` points at nothing (a fail, never unknown)."""
    if isinstance(value_from, str) and value_from.strip():
        return SecretRef(reference=value_from)
    shown = value_from if isinstance(value_from, str | int | float | type(None)) else type(value_from).__name__
    return SecretRef(
        reference=str(shown), meta=SecretMeta(store="Secrets Manager or SSM", exists=False, note="no valueFrom")
    )


def container_facts(td: dict[str, Any], role: str, wanted: str | None, where: str) -> Container:
    c = pick_container(list(td.get("containerDefinitions") or []), wanted, role, where)
    env = {str(e["name"]): str(e.get("value", "")) for e in _entries(c, "environment") if e.get("name")}
    secrets = {str(s["name"]): _secret_ref(s.get("valueFrom")) for s in _entries(c, "secrets") if s.get("name")}
    files = [str(f.get("value", "")) for f in _entries(c, "environmentFiles")]
    return Container(name=str(c.get("name", role)), env=env, secrets=secrets, environment_files=files)


# -- references ------------------------------------------------------------------------------


def secret_id(value_from: str) -> str | None:
    """The Secrets Manager secret ARN of a ``valueFrom`` (``:json-key:stage:version`` dropped), or None for SSM."""
    parts = value_from.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "secretsmanager" and parts[5] == "secret":
        return ":".join(parts[:7])
    return None


def parameter_names(value_from: str) -> tuple[str, ...]:
    """The SSM parameter names a ``valueFrom`` can mean (an ARN drops the name's leading '/')."""
    if value_from.startswith("arn:"):
        parts = value_from.split(":", 5)
        resource = parts[5] if len(parts) == 6 else ""
        name = resource.removeprefix("parameter")
        if not name.startswith("/"):
            return ()
        bare = name[1:]
        return (name,) if "/" in bare else (bare, name)
    return (value_from,)


# -- the gather ----------------------------------------------------------------------------------


class EcsGather:
    """One preflight's look at ECS: ``workers`` calls in flight at most (1 = one at a time)."""

    def __init__(self, settings: DeploySettings, aws: Aws | None, *, workers: int = WORKERS) -> None:
        self.settings = settings
        self.aws = aws
        self.workers = workers

    def _parallel(self, jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        return run_parallel(jobs, self.workers)

    # each call below is one request, counted by Aws.call

    def _cluster_name(self) -> str:
        cluster = self.settings.require_cluster()
        return cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster

    def describe_services(self, names: list[str]) -> list[dict[str, Any]]:
        assert self.aws is not None
        ecs = self.aws.client("ecs")
        cluster = self.settings.require_cluster()
        found: list[dict[str, Any]] = []
        for i in range(0, len(names), SERVICES_PER_CALL):
            answer = self.aws.call(
                "ecs:DescribeServices",
                ecs.describe_services,
                missing=("ClusterNotFoundException",),
                cluster=cluster,
                services=names[i : i + SERVICES_PER_CALL],
            )
            if answer is None:
                raise NotFoundError(f"ECS cluster {cluster!r} not found in {self.aws.region}")
            found += [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
        return found

    def scalable_targets(self, names: list[str]) -> dict[str, dict[str, Any]]:
        assert self.aws is not None
        client = self.aws.client("application-autoscaling")
        ids = [f"service/{self._cluster_name()}/{n.rsplit('/', 1)[-1]}" for n in names]
        out: dict[str, dict[str, Any]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "ServiceNamespace": "ecs",
                "ResourceIds": ids,
                "ScalableDimension": "ecs:service:DesiredCount",
            }
            if token:
                kwargs["NextToken"] = token
            answer = self.aws.call(
                "application-autoscaling:DescribeScalableTargets", client.describe_scalable_targets, **kwargs
            )
            for target in answer.get("ScalableTargets") or []:
                if isinstance(target, dict) and target.get("ResourceId"):
                    out[str(target["ResourceId"]).rsplit("/", 1)[-1]] = target
            token = answer.get("NextToken")
            if not token:
                return out

    def task_definition(self, ref: str) -> dict[str, Any]:
        assert self.aws is not None
        ecs = self.aws.client("ecs")
        answer = self.aws.call(
            "ecs:DescribeTaskDefinition",
            ecs.describe_task_definition,
            missing=("ClientException",),
            taskDefinition=ref,
        )
        found = answer.get("taskDefinition") if isinstance(answer, dict) else None
        if not isinstance(found, dict):
            raise NotFoundError(f"ECS task definition {ref!r} not found in {self.aws.region}")
        return dict(found)

    def database(self) -> DatabaseBackup | None:
        ref = self.settings.backups.database
        if ref is None or ref.kind == "azure_postgres":
            if ref is not None:
                raise InputError(
                    "deploy.backups.database: azure_postgres is for container-apps;"
                    " on ecs use rds_instance or rds_cluster"
                )
            return None
        assert self.aws is not None
        rds = self.aws.client("rds")
        if ref.kind == "rds_instance":
            answer = self.aws.call(
                "rds:DescribeDBInstances",
                rds.describe_db_instances,
                missing=("DBInstanceNotFound", "DBInstanceNotFoundFault"),
                DBInstanceIdentifier=ref.name,
            )
            items = (answer or {}).get("DBInstances", [])
        else:
            answer = self.aws.call(
                "rds:DescribeDBClusters",
                rds.describe_db_clusters,
                missing=("DBClusterNotFoundFault",),
                DBClusterIdentifier=ref.name,
            )
            items = (answer or {}).get("DBClusters", [])
        if not items:
            what = "DB instance" if ref.kind == "rds_instance" else "Aurora DB cluster"
            raise NotFoundError(f"RDS {what} {ref.name!r} not found in {self.aws.region} (deploy.backups.database)")
        item = items[0]
        return DatabaseBackup(
            id=ref.name,
            kind=ref.kind,
            retention_days=int(item.get("BackupRetentionPeriod") or 0),
            latest_restorable=item.get("LatestRestorableTime"),
        )

    def redis(self) -> RedisBackup | None:
        ref = self.settings.backups.redis
        if ref is None:
            return None
        if not ref.kind.startswith("elasticache"):
            raise InputError(f"deploy.backups.redis: {ref.kind} is for container-apps; on ecs use an elasticache_* key")
        assert self.aws is not None
        ec = self.aws.client("elasticache")
        if ref.kind == "elasticache_replication_group":
            answer = self.aws.call(
                "elasticache:DescribeReplicationGroups",
                ec.describe_replication_groups,
                missing=("ReplicationGroupNotFoundFault",),
                ReplicationGroupId=ref.name,
            )
            items = (answer or {}).get("ReplicationGroups", [])
        elif ref.kind == "elasticache_cluster":
            answer = self.aws.call(
                "elasticache:DescribeCacheClusters",
                ec.describe_cache_clusters,
                missing=("CacheClusterNotFound", "CacheClusterNotFoundFault"),
                CacheClusterId=ref.name,
            )
            items = (answer or {}).get("CacheClusters", [])
        else:
            answer = self.aws.call(
                "elasticache:DescribeServerlessCaches",
                ec.describe_serverless_caches,
                missing=("ServerlessCacheNotFoundFault",),
                ServerlessCacheName=ref.name,
            )
            items = (answer or {}).get("ServerlessCaches", [])
        if not items:
            raise NotFoundError(
                f"ElastiCache {ref.kind.removeprefix('elasticache_').replace('_', ' ')} "
                f"{ref.name!r} not found in {self.aws.region} (deploy.backups.redis)"
            )
        return RedisBackup(id=ref.name, kind=ref.kind, retention_days=int(items[0].get("SnapshotRetentionLimit") or 0))

    def describe_secret(self, arn: str) -> SecretMeta:
        assert self.aws is not None
        from botocore.exceptions import InvalidRegionError

        region = arn.split(":")[3] or None  # a secret may live in another region than the services
        try:
            sm = self.aws.client("secretsmanager", region)
        except InvalidRegionError:  # the reference is wrong, not the run: judge it
            return SecretMeta(
                store=SECRETS_MANAGER, exists=False, note=f"its ARN names region {region!r}, not a valid AWS region"
            )
        answer = self.aws.call(
            "secretsmanager:DescribeSecret", sm.describe_secret, missing=("ResourceNotFoundException",), SecretId=arn
        )
        if answer is None:
            return SecretMeta(store=SECRETS_MANAGER, exists=False)
        return SecretMeta(
            store=SECRETS_MANAGER,
            exists=True,
            deleted=answer.get("DeletedDate") is not None,
            last_changed=_utc(answer.get("LastChangedDate") or answer.get("CreatedDate")),
        )

    def describe_parameters(self, names: list[str]) -> dict[str, SecretMeta]:
        """Metadata of these SSM parameters (absent ones missing from the answer)."""
        assert self.aws is not None
        ssm = self.aws.client("ssm")
        out: dict[str, SecretMeta] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": names}],
                "MaxResults": 50,
            }
            if token:
                kwargs["NextToken"] = token
            answer = self.aws.call("ssm:DescribeParameters", ssm.describe_parameters, **kwargs)
            for p in answer.get("Parameters") or []:
                if isinstance(p, dict) and p.get("Name"):
                    meta = SecretMeta(store=SSM, exists=True, last_changed=_utc(p.get("LastModifiedDate")))
                    out[str(p["Name"])] = meta
            token = answer.get("NextToken")
            if not token:
                return out

    # the whole look

    def gather(self, task_definitions: dict[Role, str]) -> Facts:
        settings = self.settings
        files: dict[Role, dict[str, Any]] = {}
        arns: dict[Role, str] = {}
        for role, value in task_definitions.items():
            if value.startswith("arn:"):
                arns[role] = value
            else:
                files[role] = task_definition_from_file(Path(value), role)
        roles: list[Role] = [r for r in ROLES if r in settings.services or r in task_definitions]
        for required in ("api", "web"):
            if required not in roles:
                settings.require_service(required)  # raises, naming the setting and the flag
        if any(r not in task_definitions for r in roles):
            settings.require_cluster()  # the running revision is read from the service
        online = self.aws is not None
        notes: dict[str, str] = {}
        if not online:
            offline = "no ECS cluster configured: judged from the files alone"
            notes = {k: offline for k in ("secrets", "replicas", "rotation", "database", "redis")}
        named = [settings.services[r] for r in roles if r in settings.services] if settings.cluster and online else []

        first: dict[str, Callable[[], Any]] = {}
        if named:
            first["services"] = partial(self.describe_services, named)
            first["scaling"] = partial(self.scalable_targets, named)
        if online:
            first["database"] = self.database
            first["redis"] = self.redis
            for role, arn in arns.items():
                first[f"td:{role}"] = partial(self.task_definition, arn)
        got = self._parallel(first)
        described: dict[str, dict[str, Any]] = {}
        for found in got.get("services") or []:
            if isinstance(found, dict) and found.get("serviceName"):
                described[str(found["serviceName"])] = described[str(found.get("serviceArn", ""))] = found
        for role in roles:
            name = settings.services.get(role)
            if named and name and name not in described:
                raise NotFoundError(
                    f"ECS service {name!r} ({role}) not found in cluster {settings.cluster!r}"
                    f" (deploy.services.{role} / --service {role}=NAME)"
                )

        running: dict[Role, str] = {}
        for role in roles:
            if role in task_definitions:
                continue
            service = settings.services[role]
            ref = described[service].get("taskDefinition")
            if not isinstance(ref, str) or not ref:  # e.g. the EXTERNAL deployment controller
                raise InputError(
                    f"ECS service {service!r} ({role}) runs no task definition ECS knows of",
                    hint=f"judge the one you deploy: --task-definition {role}=FILE|ARN",
                )
            running[role] = ref
        tds = self._parallel({ref: partial(self.task_definition, ref) for ref in set(running.values())})
        for role in arns:
            files[role] = got[f"td:{role}"]

        containers: dict[Role, tuple[Container, str]] = {}
        for role in roles:
            td = files[role] if role in files else tds[running[role]]
            where = f"task definition {_revision_label(td, task_definitions.get(role, role))}"
            facts = container_facts(td, role, settings.containers.get(role), where)
            containers[role] = (facts, _revision_label(td, role))

        metas = self._secret_metadata([c for c, _ in containers.values()]) if online else {}
        scaling = got.get("scaling", {})
        services: dict[str, Service] = {}
        for role in roles:
            container, revision = containers[role]
            container = container.model_copy(
                update={
                    "secrets": {
                        k: v if v.meta is not None else v.model_copy(update={"meta": metas.get(v.reference)})
                        for k, v in container.secrets.items()
                    }
                }
            )
            name = settings.services.get(role, "")
            svc = described.get(name, {})
            desired = svc.get("desiredCount") if svc else None
            target = scaling.get(name.rsplit("/", 1)[-1])
            lowest, ceiling = desired, desired
            if desired is not None and target is not None:
                lowest = min(int(desired), int(target.get("MinCapacity") or desired))
                ceiling = max(int(desired), int(target.get("MaxCapacity") or desired))
            deployments = [d for d in svc.get("deployments") or [] if isinstance(d, dict)]
            primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
            services[role] = Service(
                role=role,
                name=name or revision,
                revision=revision,
                from_file=role in task_definitions,
                container=container,
                min_replicas=lowest,
                max_replicas=ceiling,
                deployment_started=_utc(primary.get("createdAt")) if primary else None,
            )
        if online and not named:
            notes["replicas"] = "no service named for the roles given as files"
        return Facts(
            platform="ecs",
            services=services,
            database=got.get("database"),
            redis=got.get("redis"),
            notes=notes,
        )

    def _secret_metadata(self, containers: Iterable[Container]) -> dict[str, SecretMeta]:
        refs = {ref.reference for c in containers for ref in c.secrets.values() if ref.meta is None}
        by_secret: dict[str, list[str]] = {}
        by_parameter: dict[str, tuple[str, ...]] = {}
        for ref in refs:
            sid = secret_id(ref)
            if sid:
                by_secret.setdefault(sid, []).append(ref)
            else:
                by_parameter[ref] = parameter_names(ref)
        jobs: dict[str, Callable[[], Any]] = {f"sm:{sid}": partial(self.describe_secret, sid) for sid in by_secret}
        names = sorted({n for ns in by_parameter.values() for n in ns})
        for i in range(0, len(names), NAMES_PER_CALL):
            chunk = names[i : i + NAMES_PER_CALL]
            jobs[f"ssm:{i}"] = partial(self.describe_parameters, chunk)
        got = self._parallel(jobs)
        out: dict[str, SecretMeta] = {}
        for sid, values in by_secret.items():
            for ref in values:
                out[ref] = got[f"sm:{sid}"]
        found: dict[str, SecretMeta] = {}
        for key, value in got.items():
            if key.startswith("ssm:"):
                found.update(value)
        for ref, candidates in by_parameter.items():
            hit = next((found[n] for n in candidates if n in found), None)
            out[ref] = hit or SecretMeta(store=SSM, exists=False)
        return out


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def gather(
    settings: DeploySettings, task_definitions: dict[Role, str], *, aws: Aws | None, workers: int = WORKERS
) -> Facts:
    return EcsGather(settings, aws, workers=workers).gather(task_definitions)
