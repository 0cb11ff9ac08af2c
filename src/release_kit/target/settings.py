"""The ``deploy:`` section of ``.github/release-kit.yml``: where the services run and what the runbook requires.

Shared by every deploy-half command (preflight, migrate, deploy, rollback). Flags override these
settings through :func:`with_overrides`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from release_kit.errors import InputError
from release_kit.gates.policy import Duration

Role = Literal["api", "web", "worker"]
ROLES: tuple[Role, ...] = ("api", "web", "worker")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _OneOf(Strict):
    """A resource named by exactly one of its keys (its kind)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneOf:
        given = [k for k, v in self.model_dump().items() if v]
        if len(given) != 1:
            raise ValueError(f"name exactly one of {', '.join(type(self).model_fields)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.model_dump().items() if v)

    @property
    def name(self) -> str:
        return str(next(v for v in self.model_dump().values() if v))


class DatabaseRef(_OneOf):
    """One database to judge (and to snapshot before a migration)."""

    rds_instance: str | None = Field(None, description="RDS DB instance identifier.")
    rds_cluster: str | None = Field(None, description="Aurora DB cluster identifier.")
    azure_postgres: str | None = Field(None, description="Azure Database for PostgreSQL flexible server name.")


class RedisRef(_OneOf):
    """One Redis to judge."""

    elasticache_replication_group: str | None = None
    elasticache_cluster: str | None = None
    elasticache_serverless: str | None = None
    azure_redis: str | None = Field(None, description="Azure Cache for Redis name.")
    azure_managed_redis: str | None = Field(None, description="Azure Managed Redis (Redis Enterprise) cluster name.")


class Backups(Strict):
    database: DatabaseRef | None = None
    redis: RedisRef | None = None
    min_retention_days: int = Field(7, ge=1, description="Database backup retention, at least (days).")
    min_snapshot_days: int = Field(1, ge=1, description="Redis snapshot retention, at least (days).")
    max_restore_lag: Duration = Field(
        timedelta(hours=24), description="The database's latest restorable time may not be older (e.g. 24h)."
    )


class Migrations(Strict):
    job: str | None = Field(None, description="container-apps: the Container Apps job that runs migrations.")
    command: str | None = Field(None, description="The migration command, e.g. 'starter-console release db'.")


class HealthCheck(Strict):
    """What "ready" means for one service: health polls BASE + path until these hold."""

    path: str = Field(
        "/health/ready",
        pattern=r"^/\S*$",  # pydantic-core regex: $ is the very end
        description="The readiness path under the service's base URL (web: /api/health/ready).",
    )
    expect_json: dict[str, Any] = Field(
        default_factory=dict,
        description="JMESPath -> value the JSON answer must hold, e.g. {status: ready}: a 200 saying 'degraded' fails.",
    )
    expect_version: bool = Field(
        False, description="The answered version must be the release being deployed (the tag, with or without v)."
    )
    version_field: str = Field("version", description="JMESPath of the version in the answer.")


DEFAULT_HEALTH_PATHS: dict[str, str] = {"api": "/health/ready", "web": "/api/health/ready"}

DEFAULT_ENV: dict[str, dict[str, str]] = {"api": {"AUTO_RUN_MIGRATIONS": "false"}}
DEFAULT_APP_DEFAULTS: dict[str, str] = {  # how the runbook's app reads these variables when they are unset
    "ENABLE_BILLING_RETRY_WORKER": "true",
    "ENABLE_BILLING_STREAM_REPLAY": "true",
    "AUTO_RUN_MIGRATIONS": "false",
}
DEFAULT_SECRET_REFS = ("DATABASE_URL", "REDIS_URL")


class DeploySettings(Strict):
    """Where the services run, and what the runbook requires of them."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="deploy")

    platform: str | None = Field(
        None, description="Where the services run: a platform of release-kit's registry (ecs, container-apps)."
    )
    region: str | None = Field(None, description="ecs: AWS region; default AWS_REGION / AWS_DEFAULT_REGION.")
    cluster: str | None = Field(None, description="ecs: the cluster name or ARN.")
    subscription: str | None = Field(None, description="container-apps: default AZURE_SUBSCRIPTION_ID.")
    resource_group: str | None = Field(None, description="container-apps: the resource group.")
    services: dict[Role, str] = Field(
        default_factory=dict, description="Service (ECS) or app (Container Apps) name per role: api, web, worker."
    )
    containers: dict[Role, str] = Field(
        default_factory=dict,
        description="Container name per role; default: the role name, else the only container.",
    )
    secret_refs: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SECRET_REFS),
        description="Variables that must be secret references, on api and on worker when present.",
    )
    env: dict[Role, dict[str, str]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_ENV.items()},  # type: ignore[arg-type]
        description="Literal values each role must have.",
    )
    billing_topology: bool = Field(True, description="Judge the runbook's billing worker topology.")
    backups: Backups = Field(default_factory=Backups)
    rotation: list[str] = Field(
        default_factory=list,
        description="Secrets that, changed after the running deployment started, mean a redeploy is due.",
    )
    migrations: Migrations = Field(default_factory=Migrations)
    images: dict[Role, str] = Field(
        default_factory=dict,
        description="Each role's image repository (REGISTRY/PATH, e.g. ghcr.io/acme/api): deploy, last-good and "
        "rollback use no image from any other. Default: the repository each service runs now.",
    )
    health: dict[Role, HealthCheck] = Field(
        default_factory=dict,
        description="What ready means per service, for health with --api-url/--web-url (path, expect_json, "
        "expect_version).",
    )
    require_attestations: bool = Field(
        False,
        description="deploy and rollback deploy only digests with a build-provenance attestation from this "
        "repository (signer_workflow), checked before anything changes.",
    )
    signer_workflow: str | None = Field(
        None,
        description="[HOST/]OWNER/REPO/PATH of the workflow that must have signed the images' attestations "
        "(a reusable workflow may live elsewhere). Default: any workflow of the repository.",
    )
    app_defaults: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_APP_DEFAULTS),
        description="How the app reads a variable left unset (variable -> value): preflight judges the value the "
        "app will use. Default: the runbook app's.",
    )

    @field_validator("platform")
    @classmethod
    def _registered(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Checked against the platforms the loader names in the context (the registry, not imported here)."""
        known = (info.context or {}).get("platforms")
        if value is not None and known is not None and value not in known:
            raise ValueError(f"not a platform release-kit deploys to ({', '.join(known)})")
        return value

    def with_overrides(self, **values: Any) -> DeploySettings:
        """These settings with every flag that was given (not None, not empty) laid over them."""
        given = {k: v for k, v in values.items() if v not in (None, {}, [], ())}
        if not given:
            return self
        merged = self.model_dump(exclude_unset=True) | given
        return DeploySettings.model_validate(merged)

    def require_platform(self) -> str:
        if self.platform is None:
            raise InputError("no deploy platform: set deploy.platform in .github/release-kit.yml or pass --platform")
        return self.platform

    def require_service(self, role: Role) -> str:
        name = self.services.get(role)
        if not name:
            raise InputError(
                f"no {role} service: set deploy.services.{role} in .github/release-kit.yml"
                f" or pass --service {role}=NAME"
            )
        return name

    def aws_region(self) -> str:
        region = self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise InputError("no AWS region: set deploy.region, or AWS_REGION / AWS_DEFAULT_REGION")
        return region

    def require_cluster(self) -> str:
        if not self.cluster:
            raise InputError("no ECS cluster: set deploy.cluster in .github/release-kit.yml or pass --cluster NAME")
        return self.cluster

    def azure_subscription(self) -> str:
        sub = self.subscription or os.environ.get("AZURE_SUBSCRIPTION_ID")
        if not sub:
            raise InputError("no Azure subscription: set deploy.subscription, or AZURE_SUBSCRIPTION_ID")
        return sub

    def require_resource_group(self) -> str:
        if not self.resource_group:
            raise InputError(
                "no resource group: set deploy.resource_group in .github/release-kit.yml or pass --resource-group NAME"
            )
        return self.resource_group


def pick_container(containers: list[dict[str, Any]], wanted: str | None, role: str, where: str) -> dict[str, Any]:
    """The role's container: ``deploy.containers.<role>`` (``wanted``), else the one named like the
    role, else the only one; exit 2 naming the setting otherwise. ``containers`` are the platform's
    container definitions (dicts with a ``name``)."""
    containers = [c for c in containers if isinstance(c, dict)]
    names = [str(c.get("name", "")) for c in containers]
    for name in [wanted] if wanted else [role]:
        for container in containers:
            if container.get("name") == name:
                return container
    if wanted:
        raise InputError(
            f"{where} has no container {wanted!r} (deploy.containers.{role}); it has {', '.join(names) or 'none'}"
        )
    if len(containers) == 1:
        return containers[0]
    raise InputError(
        f"{where} has containers {', '.join(names) or 'none'}: "
        f"set deploy.containers.{role} or pass --container {role}=NAME"
    )


def parse_role_pairs(values: tuple[str, ...] | list[str], flag: str) -> dict[Role, str]:
    """``ROLE=VALUE`` flags (``--service api=agent-api``) as a mapping; exit 2 on anything else."""
    out: dict[Role, str] = {}
    for raw in values:
        for item in raw.split():
            role, sep, value = item.partition("=")
            if not sep or not value:
                raise InputError(f"{flag} {item!r}: expected ROLE=VALUE with ROLE one of api, web, worker")
            if role not in ROLES:
                raise InputError(f"{flag} {item!r}: unknown role {role!r}; expected api, web or worker")
            out[role] = value
    return out
