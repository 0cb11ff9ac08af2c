"""Azure Container Apps -> preflight facts, through the azure-mgmt-* SDKs (read-only: the Reader role).

Everything is judged from ARM's JSON (the wire format), whether it came from the SDK or from an
``az containerapp show -o json`` file, so one parser serves both. Secret values are never read:
an app's GET returns its secrets' names, Key Vault URLs and identities only (values need the
``listSecrets`` action, which we never call). For the rotation check, a Key Vault reference's
last change is read from the secret's properties (``deploy/key_vault.py``), never its value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from release_kit.clouds.arm import Arm
from release_kit.errors import InputError, NotFoundError
from release_kit.parallel import run_parallel
from release_kit.platforms.container_apps.key_vault import NotAVault, last_changed, parse_secret_url
from release_kit.platforms.files import load_json_file
from release_kit.preflight.facts import Container, DatabaseBackup, Facts, RedisBackup, SecretMeta, SecretRef, Service
from release_kit.target.settings import ROLES, DeploySettings, Role, pick_container

READER = "Reader"
DEFAULT_MIN_REPLICAS = 0  # Container Apps' defaults when scale leaves them unset
DEFAULT_MAX_REPLICAS = 10
WORKERS = 8
INLINE_ROTATION = "an inline app secret's last change is not visible through Resource Manager"


def wire(model: Any) -> dict[str, Any]:
    """An SDK model as ARM's JSON: msrest models ``serialize``, the newer ones are mappings already."""
    if isinstance(model, dict):
        return model
    if hasattr(model, "serialize"):
        return dict(model.serialize(keep_readonly=True))
    return dict(model.as_dict())


def _props(doc: dict[str, Any]) -> dict[str, Any]:
    props = doc.get("properties")
    return props if isinstance(props, dict) else {}


def app_facts(doc: dict[str, Any], role: str, wanted: str | None, *, from_file: bool) -> Service:
    """One role's Service from a Container App document."""
    props = _props(doc)
    name = str(doc.get("name") or role)
    template = props.get("template")
    template = template if isinstance(template, dict) else {}
    containers = template.get("containers")
    if not isinstance(containers, list) or not containers:
        raise InputError(f"container app {name!r} ({role}): no properties.template.containers in its document")
    c = pick_container(containers, wanted, role, f"container app {name!r}")
    configuration = props.get("configuration")
    listed = configuration.get("secrets") if isinstance(configuration, dict) else None
    defined = {str(s.get("name")): s for s in listed or [] if isinstance(s, dict)}
    env: dict[str, str] = {}
    secrets: dict[str, SecretRef] = {}
    variables = c.get("env")
    for e in variables if isinstance(variables, list) else []:
        if not isinstance(e, dict):
            continue
        var = str(e.get("name") or "")
        if not var:
            continue
        if e.get("secretRef"):
            ref = str(e["secretRef"])
            secret = defined.get(ref)
            if secret is None:
                meta = SecretMeta(store="the app's secrets", exists=False)
            elif secret.get("keyVaultUrl"):
                url = secret["keyVaultUrl"]
                if isinstance(url, str) and _is_https_url(url):
                    meta = SecretMeta(store="Key Vault", exists=True, url=url)
                else:  # a reference to nothing a secrets manager holds
                    meta = SecretMeta(
                        store="Key Vault",
                        exists=False,
                        note="its keyVaultUrl is not an https:// URL, so it was not contacted",
                    )
            else:
                meta = SecretMeta(store="inline", exists=True, in_manager=False, note=INLINE_ROTATION)
            secrets[var] = SecretRef(reference=ref, meta=meta)
        else:
            env[var] = str(e.get("value") or "")
    scale = template.get("scale")
    scale = scale if isinstance(scale, dict) else {}
    low = _count(scale.get("minReplicas"), f"container app {name!r} scale.minReplicas")
    high = _count(scale.get("maxReplicas"), f"container app {name!r} scale.maxReplicas")
    if low is not None and high is not None and low > high:  # Azure refuses it: not a real app
        raise InputError(f"container app {name!r}: scale.minReplicas {low} is above scale.maxReplicas {high}")
    return Service(
        role=role,
        name=name,
        revision=str(props.get("latestReadyRevisionName") or props.get("latestRevisionName") or name),
        from_file=from_file,
        container=Container(name=str(c.get("name") or role), env=env, secrets=secrets),
        min_replicas=low if low is not None else DEFAULT_MIN_REPLICAS,
        max_replicas=high if high is not None else DEFAULT_MAX_REPLICAS,
    )


def _is_https_url(url: str) -> bool:
    """Shaped like a URL a Key Vault reference can be (whether we may contact it is key_vault's call)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def _count(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not re.fullmatch(r"[0-9]{1,6}", str(value)):
        raise InputError(f"{what}: expected a whole number, got {str(value)[:40]!r}")
    return int(value)


def database_facts(doc: dict[str, Any], name: str) -> DatabaseBackup:
    backup = _props(doc).get("backup") or {}
    geo = backup.get("geoRedundantBackup")
    return DatabaseBackup(
        id=name,
        kind="azure_postgres",
        retention_days=int(backup.get("backupRetentionDays") or 0),
        geo_redundant=None if geo is None else str(geo).lower() == "enabled",
    )


def redis_facts(doc: dict[str, Any], name: str) -> RedisBackup:
    props = _props(doc)
    sku = str((props.get("sku") or {}).get("name") or "")
    config = props.get("redisConfiguration") or {}
    rdb = str(config.get("rdb-backup-enabled", "")).lower() == "true"
    aof = str(config.get("aof-backup-enabled", "")).lower() == "true"
    if sku.lower() != "premium":
        detail = f"{sku or 'this'} tier has no persistence (RDB backups need Premium)"
        return RedisBackup(id=name, kind="azure_redis", persistence=False, detail=detail)
    if rdb:
        freq = config.get("rdb-backup-frequency")
        detail = "RDB backups on" + (f", every {freq} min" if freq else "")
    elif aof:
        detail = "AOF persistence on (RDB backups off)"
    else:
        detail = "Premium, but RDB backups are off (rdb-backup-enabled is not true)"
    return RedisBackup(id=name, kind="azure_redis", persistence=rdb or aof, detail=detail)


def managed_redis_facts(doc: dict[str, Any], name: str) -> RedisBackup:
    persistence = _props(doc).get("persistence") or {}
    rdb = bool(persistence.get("rdbEnabled"))
    aof = bool(persistence.get("aofEnabled"))
    if rdb or aof:
        kinds = [k for k, on in (("RDB", rdb), ("AOF", aof)) if on]
        freq = persistence.get("rdbFrequency") if rdb else persistence.get("aofFrequency")
        detail = f"database persistence {' and '.join(kinds)} on" + (f" ({freq})" if freq else "")
    else:
        detail = "database persistence is off (neither RDB nor AOF)"
    return RedisBackup(id=name, kind="azure_managed_redis", persistence=rdb or aof, detail=detail)


class ContainerAppsGather:
    def __init__(self, settings: DeploySettings, arm: Arm | None, *, workers: int = WORKERS) -> None:
        self.settings = settings
        self.arm = arm
        self.workers = workers

    def _parallel(self, jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        return run_parallel(jobs, self.workers)

    def _get(self, what: str, setting: str, fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        assert self.arm is not None
        answer = self.arm.call(what, READER, fn, missing_ok=True, **kwargs)
        if answer is None:
            rg = self.settings.resource_group
            raise NotFoundError(f"Azure has no {what.removeprefix('read ')} in resource group {rg!r} ({setting})")
        return wire(answer)

    def app(self, role: Role, name: str) -> dict[str, Any]:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        assert self.arm is not None
        client = self.arm.client(ContainerAppsAPIClient)
        return self._get(
            f"read container app {name}",
            f"deploy.services.{role} / --service {role}=NAME",
            client.container_apps.get,
            resource_group_name=self.settings.require_resource_group(),
            container_app_name=name,
        )

    def revision_created(self, app: str, revision: str) -> datetime | None:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        assert self.arm is not None
        client = self.arm.client(ContainerAppsAPIClient)
        doc = self._get(
            f"read revision {revision} of container app {app}",
            "the app's latestReadyRevisionName",
            client.container_apps_revisions.get_revision,
            resource_group_name=self.settings.require_resource_group(),
            container_app_name=app,
            revision_name=revision,
        )
        created = _props(doc).get("createdTime")
        if isinstance(created, datetime):
            return created
        if isinstance(created, str):
            return datetime.fromisoformat(created.replace("Z", "+00:00"))
        return None

    def key_vault_change(self, url: str) -> SecretMeta:
        """A Key Vault reference's last change, or why it is not known (a foreign host is never contacted)."""
        try:
            secret = parse_secret_url(url)
        except NotAVault as exc:
            return SecretMeta(store="Key Vault", exists=True, url=url, note=str(exc))
        assert self.arm is not None
        when, why = last_changed(self.arm, secret)
        return SecretMeta(store="Key Vault", exists=True, url=url, last_changed=when, note=why)

    def _rotation_secrets(self, services: dict[Role, Service]) -> dict[Role, Service]:
        """The running apps' rotation secrets with their Key Vault last change filled in (each URL read once)."""
        urls = {
            ref.meta.url
            for svc in services.values()
            if not svc.from_file
            for name, ref in svc.container.secrets.items()
            if name in self.settings.rotation and ref.meta is not None and ref.meta.url
        }
        found: dict[str, SecretMeta] = self._parallel(
            {url: partial(self.key_vault_change, url) for url in sorted(urls)}
        )
        updated: dict[Role, Service] = {}
        for role, svc in services.items():
            secrets = {
                name: ref.model_copy(update={"meta": found[ref.meta.url]})
                if ref.meta is not None and ref.meta.url in found
                else ref
                for name, ref in svc.container.secrets.items()
            }
            container = svc.container.model_copy(update={"secrets": secrets})
            updated[role] = svc.model_copy(update={"container": container})
        return updated

    def database(self) -> DatabaseBackup | None:
        ref = self.settings.backups.database
        if ref is None:
            return None
        if ref.kind != "azure_postgres":
            raise InputError(f"deploy.backups.database: {ref.kind} is for ecs; on container-apps use azure_postgres")
        from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient

        assert self.arm is not None
        client = self.arm.client(PostgreSQLManagementClient)
        doc = self._get(
            f"read PostgreSQL flexible server {ref.name}",
            "deploy.backups.database.azure_postgres",
            client.servers.get,
            resource_group_name=self.settings.require_resource_group(),
            server_name=ref.name,
        )
        return database_facts(doc, ref.name)

    def redis(self) -> RedisBackup | None:
        ref = self.settings.backups.redis
        if ref is None:
            return None
        rg = self.settings.require_resource_group()
        assert self.arm is not None
        if ref.kind == "azure_redis":
            from azure.mgmt.redis import RedisManagementClient

            client = self.arm.client(RedisManagementClient)
            doc = self._get(
                f"read Azure Cache for Redis {ref.name}",
                "deploy.backups.redis.azure_redis",
                client.redis.get,
                resource_group_name=rg,
                name=ref.name,
            )
            return redis_facts(doc, ref.name)
        if ref.kind == "azure_managed_redis":
            from azure.mgmt.redisenterprise import RedisEnterpriseManagementClient

            enterprise = self.arm.client(RedisEnterpriseManagementClient)
            doc = self._get(
                f"read the default database of Azure Managed Redis {ref.name}",
                "deploy.backups.redis.azure_managed_redis",
                enterprise.databases.get,
                resource_group_name=rg,
                cluster_name=ref.name,
                database_name="default",
            )
            return managed_redis_facts(doc, ref.name)
        raise InputError(
            f"deploy.backups.redis: {ref.kind} is for ecs; on container-apps use azure_redis or azure_managed_redis"
        )

    def gather(self, app_files: dict[Role, str]) -> Facts:
        settings = self.settings
        roles: list[Role] = [r for r in ROLES if r in settings.services or r in app_files]
        for required in ("api", "web"):
            if required not in roles:
                settings.require_service(required)
        docs: dict[Role, dict[str, Any]] = {
            role: load_json_file(Path(path), "--app-file", role) for role, path in app_files.items()
        }
        online = self.arm is not None
        notes: dict[str, str] = {}
        if not online:
            offline = "no resource group configured: judged from the files alone"
            notes |= {"database": offline, "redis": offline, "secrets": offline}
            if any(r not in docs for r in roles):
                settings.require_resource_group()
        jobs: dict[str, Callable[[], Any]] = {}
        if online:
            for role in roles:
                if role not in docs:
                    jobs[f"app:{role}"] = partial(self.app, role, settings.services[role])
            jobs["database"] = self.database
            jobs["redis"] = self.redis
        got = self._parallel(jobs)
        services = {
            role: app_facts(
                docs.get(role) or got[f"app:{role}"], role, settings.containers.get(role), from_file=role in docs
            )
            for role in roles
        }
        if online and settings.rotation:
            wanted = {
                role: svc
                for role, svc in services.items()
                if not svc.from_file and any(n in svc.container.secrets for n in settings.rotation)
            }
            started = self._parallel(
                {role: partial(self.revision_created, svc.name, svc.revision) for role, svc in wanted.items()}
            )
            for key, when in started.items():
                services[key] = services[key].model_copy(update={"deployment_started": when})  # type: ignore[index]
            services = self._rotation_secrets(services)
        return Facts(
            platform="container-apps",
            services=dict(services),
            database=got.get("database"),
            redis=got.get("redis"),
            notes=notes,
        )


def gather(settings: DeploySettings, app_files: dict[Role, str], *, arm: Arm | None, workers: int = WORKERS) -> Facts:
    return ContainerAppsGather(settings, arm, workers=workers).gather(app_files)
