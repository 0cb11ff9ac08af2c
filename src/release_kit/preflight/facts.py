"""Platform-neutral facts about the services, database and Redis that preflight judges.

``deploy/ecs.py`` and ``deploy/container_apps.py`` turn cloud answers (or files) into these; the
checks in ``deploy/checks.py`` read nothing else. ``None`` always means "not known" (not looked up,
or not visible through the platform), never "absent": the checks turn it into ``unknown``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SecretMeta(Fact):
    """What the secrets manager says about a referenced secret. Never its value."""

    store: str = Field(description="Where it is held: 'Secrets Manager', 'SSM Parameter Store', 'Key Vault', 'inline'.")
    exists: bool | None = None  # None: not looked up
    deleted: bool = False  # scheduled for deletion
    in_manager: bool = True  # False: a Container Apps secret held inline in the app
    last_changed: datetime | None = None
    url: str | None = None  # Container Apps: the app secret's keyVaultUrl
    note: str | None = None  # why last_changed is not known, when it was looked for


class SecretRef(Fact):
    """A variable injected from a secret: where it points, and what was found there."""

    reference: str = Field(description="ECS valueFrom, or the Container Apps secret name.")
    meta: SecretMeta | None = None  # None: not looked up (no cloud, or not resolvable)


class Container(Fact):
    name: str
    env: dict[str, str] = Field(default_factory=dict)  # literal values
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    environment_files: list[str] = Field(default_factory=list)  # ECS environmentFiles (S3 ARNs)


class Service(Fact):
    """One role's service (ECS) or app (Container Apps), as the revision that will run."""

    role: str
    name: str
    revision: str  # task definition ARN/family:revision, or the Container Apps revision/app
    from_file: bool = False  # judged from a file about to be deployed, not from what runs now
    container: Container
    min_replicas: int | None = None  # the fewest replicas it may run
    max_replicas: int | None = None  # the replica ceiling (desired count, autoscaling max, scale.maxReplicas)
    deployment_started: datetime | None = None  # when the running deployment/revision was created


class DatabaseBackup(Fact):
    id: str
    kind: str  # rds_instance, rds_cluster, azure_postgres
    retention_days: int
    latest_restorable: datetime | None = None  # None where the platform does not say
    geo_redundant: bool | None = None  # Azure only


class RedisBackup(Fact):
    id: str
    kind: str  # elasticache_replication_group, elasticache_cluster, elasticache_serverless, azure_redis, ...
    retention_days: int | None = None  # ElastiCache SnapshotRetentionLimit
    persistence: bool | None = None  # Azure: RDB (Premium) or RDB/AOF (Managed Redis) enabled
    detail: str = ""  # what was read, for the reason


class Facts(Fact):
    platform: str
    services: dict[str, Service] = Field(default_factory=dict)
    database: DatabaseBackup | None = None
    redis: RedisBackup | None = None
    notes: dict[str, str] = Field(default_factory=dict)  # why a fact is unknown, keyed like "replicas"
