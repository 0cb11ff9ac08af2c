"""preflight on Azure Container Apps: the real CLI and the real azure-mgmt SDKs, with ``responses``
answering their HTTP requests from ARM JSON bodies shaped after the SDK models
(ContainerApp, Revision, flexible Server, RedisResource, redisenterprise Database).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses

from release_kit.cli import run_cli
from tests.fakes.container_apps import FakeCredential
from tests.fakes.key_vault import FakeKeyVault

SUB = "00000000-0000-0000-0000-0000000000aa"
RG = "rg-prod"
ARM = "https://management.azure.com"
KV = "https://kv-prod.vault.azure.net/secrets"

CONFIG = f"""
deploy:
  platform: container-apps
  subscription: {SUB}
  resource_group: {RG}
  services: {{api: agent-api, web: agent-web, worker: agent-billing-worker}}
  backups:
    database: {{azure_postgres: agent-pg}}
    redis: {{azure_redis: agent-redis}}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "release-kit.yml"
    path.write_text(CONFIG)
    return path


def env(**values: str) -> list[dict[str, str]]:
    return [
        {"name": k, "secretRef": v[4:]} if v.startswith("ref:") else {"name": k, "value": v} for k, v in values.items()
    ]


def app(
    name: str,
    container: str,
    variables: list[dict[str, str]],
    *,
    secrets: list[dict[str, str]] | None = None,
    scale: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A ContainerApp as ARM (and ``az containerapp show -o json``) returns it: secrets without values."""
    template: dict[str, Any] = {
        "revisionSuffix": "",
        "containers": [
            {"name": container, "image": f"ghcr.io/acme/{container}:1.4.0", "env": variables},
        ],
    }
    if scale is not None:
        template["scale"] = scale
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.App/containerApps/{name}",
        "name": name,
        "type": "Microsoft.App/containerApps",
        "location": "West Europe",
        "identity": {"type": "SystemAssigned", "principalId": "11111111-1111-1111-1111-111111111111"},
        "properties": {
            "provisioningState": "Succeeded",
            "runningStatus": "Running",
            "latestRevisionName": f"{name}--r7",
            "latestReadyRevisionName": f"{name}--r7",
            "configuration": {
                "activeRevisionsMode": "Single",
                "secrets": secrets if secrets is not None else [],
            },
            "template": template,
        },
    }


def kv(name: str) -> dict[str, str]:
    return {"name": name, "keyVaultUrl": f"{KV}/{name}", "identity": "system"}


def api_app(**overrides: Any) -> dict[str, Any]:
    variables = overrides.pop(
        "variables",
        env(
            DATABASE_URL="ref:database-url",
            REDIS_URL="ref:redis-url",
            AUTO_RUN_MIGRATIONS="false",
            ENABLE_BILLING_RETRY_WORKER="false",
            ENABLE_BILLING_STREAM_REPLAY="false",
        ),
    )
    secrets = overrides.pop("secrets", [kv("database-url"), kv("redis-url")])
    scale = overrides.pop("scale", {"minReplicas": 2, "maxReplicas": 4})
    return app("agent-api", "api", variables, secrets=secrets, scale=scale)


def worker_app(**overrides: Any) -> dict[str, Any]:
    values = {
        "DATABASE_URL": "ref:database-url",
        "REDIS_URL": "ref:redis-url",
        "ENABLE_BILLING_RETRY_WORKER": "true",
        "ENABLE_BILLING_STREAM_REPLAY": "true",
        "BILLING_RETRY_DEPLOYMENT_MODE": "dedicated",
    } | overrides.pop("values", {})
    scale = overrides.pop("scale", {"minReplicas": 1, "maxReplicas": 1})
    return app(
        "agent-billing-worker", "worker", env(**values), secrets=[kv("database-url"), kv("redis-url")], scale=scale
    )


def web_app() -> dict[str, Any]:
    return app("agent-web", "web", env(PUBLIC_API_URL="https://api.example.test"), scale={"maxReplicas": 3})


def postgres(retention: int = 7, geo: str = "Enabled") -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/agent-pg",
        "name": "agent-pg",
        "type": "Microsoft.DBforPostgreSQL/flexibleServers",
        "location": "West Europe",
        "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
        "properties": {
            "version": "16",
            "state": "Ready",
            "backup": {"backupRetentionDays": retention, "geoRedundantBackup": geo, "earliestRestoreDate": None},
            "storage": {"storageSizeGB": 128},
        },
    }


def redis(sku: str = "Premium", rdb: bool = True) -> dict[str, Any]:
    config = {"maxmemory-policy": "volatile-lru"}
    if rdb:
        config |= {"rdb-backup-enabled": "true", "rdb-backup-frequency": "60", "rdb-backup-max-snapshot-count": "1"}
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/agent-redis",
        "name": "agent-redis",
        "type": "Microsoft.Cache/Redis",
        "location": "West Europe",
        "properties": {
            "provisioningState": "Succeeded",
            "sku": {"name": sku, "family": "P" if sku == "Premium" else "C", "capacity": 1},
            "redisConfiguration": config,
            "hostName": "agent-redis.redis.cache.windows.net",
            "port": 6379,
            "sslPort": 6380,
        },
    }


def managed_redis(persistence: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cache/redisEnterprise/agent-amr"
        "/databases/default",
        "name": "default",
        "type": "Microsoft.Cache/redisEnterprise/databases",
        "properties": {
            "provisioningState": "Succeeded",
            "resourceState": "Running",
            "clientProtocol": "Encrypted",
            "port": 10000,
            "clusteringPolicy": "OSSCluster",
            "evictionPolicy": "NoEviction",
            "persistence": persistence,
        },
    }


def serve(mock: responses.RequestsMock, path: str, body: dict[str, Any], *, status: int = 200, base: str = ARM) -> None:
    url = re.compile(re.escape(f"{base}/subscriptions/{SUB}/resourceGroups/{RG}/providers/{path}") + r"(\?.*)?$")
    mock.add(responses.GET, url, json=body, status=status)


def serve_world(
    mock: responses.RequestsMock,
    *,
    api: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
    pg: dict[str, Any] | None = None,
    cache: dict[str, Any] | None = None,
    base: str = ARM,
) -> None:
    for name, doc in (
        ("agent-api", api or api_app()),
        ("agent-web", web_app()),
        ("agent-billing-worker", worker or worker_app()),
    ):
        serve(mock, f"Microsoft.App/containerApps/{name}", doc, base=base)
    serve(mock, "Microsoft.DBforPostgreSQL/flexibleServers/agent-pg", pg or postgres(), base=base)
    serve(mock, "Microsoft.Cache/redis/agent-redis", cache or redis(), base=base)


def preflight(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = run_cli(["preflight", "--format", "json", *args])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def by(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["check"], c["subject"]): c for c in report["checks"]}


def test_key_vault_references_dedicated_worker_and_backups_pass(
    azure: responses.RequestsMock, config: Path, credential: FakeCredential, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_world(azure)
    code, report, _ = preflight(capsys, "--config", str(config))
    assert code == 0, report
    assert report["platform"] == "container-apps" and report["passed"] is True
    assert report["calls"] == 5 == len(azure.calls)  # three apps, the server, the cache
    rows = by(report)
    assert rows[("secret_refs", "api/DATABASE_URL")]["reason"] == "injected from Key Vault (database-url)"
    assert rows[("billing_topology", "worker")]["verdict"] == "pass"
    assert rows[("database_backup", "agent-pg")]["reason"] == "backup retention 7 days"
    assert "RDB backups on" in rows[("redis_backup", "agent-redis")]["reason"]
    assert {c["verdict"] for c in report["checks"]} == {"pass"}
    assert all(call.request.headers["Authorization"] == "Bearer fake-arm-token-for-tests" for call in azure.calls)
    assert set(credential.scopes) == {f"{ARM}/.default"}
    assert not any("listSecrets" in call.request.url for call in azure.calls)  # never the values


def test_inline_and_dangling_secrets_literal_env_unset_scale_and_weak_backups(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = api_app(
        variables=env(
            DATABASE_URL="ref:database-url",  # an inline app secret: warn
            REDIS_URL="ref:redis-connection",  # no such app secret: fail
            AUTO_RUN_MIGRATIONS="true",
            ENABLE_BILLING_RETRY_WORKER="false",
        ),
        secrets=[{"name": "database-url"}],
        scale={},  # maxReplicas unset: Container Apps' default, 10
    )
    worker = worker_app(values={"REDIS_URL": "rediss://:pw-in-plain-sight@agent-redis:6380"})
    serve_world(azure, api=api, worker=worker, pg=postgres(retention=1), cache=redis(rdb=False))
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 1
    rows = by(report)
    assert rows[("secret_refs", "api/DATABASE_URL")]["verdict"] == "warn"
    assert "not in the secrets manager" in rows[("secret_refs", "api/DATABASE_URL")]["reason"]
    assert rows[("secret_refs", "api/REDIS_URL")]["verdict"] == "fail"
    assert "does not exist in the app's secrets" in rows[("secret_refs", "api/REDIS_URL")]["reason"]
    assert rows[("secret_refs", "worker/REDIS_URL")]["verdict"] == "fail"  # a literal
    assert rows[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "fail"
    api_topology = rows[("billing_topology", "api")]
    assert api_topology["verdict"] == "fail"
    assert (
        "10 replicas and ENABLE_BILLING_STREAM_REPLAY unset: the app's default true applies" in api_topology["reason"]
    )
    assert rows[("database_backup", "agent-pg")]["verdict"] == "fail"
    assert "--backup-retention 7" in rows[("database_backup", "agent-pg")]["fix"]
    assert rows[("redis_backup", "agent-redis")]["verdict"] == "fail"
    assert "pw-in-plain-sight" not in json.dumps(report) + err


def test_one_replica_allows_inline_billing_and_geo_redundancy_off_warns(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = api_app(
        variables=env(
            DATABASE_URL="ref:database-url",
            REDIS_URL="ref:redis-url",
            AUTO_RUN_MIGRATIONS="0",
            ENABLE_BILLING_RETRY_WORKER="true",
            ENABLE_BILLING_STREAM_REPLAY="true",
        ),
        scale={"minReplicas": 1, "maxReplicas": 1},
    )
    serve_world(
        azure, api=api, worker=worker_app(scale={"minReplicas": 0, "maxReplicas": 1}), pg=postgres(geo="Disabled")
    )
    code, report, _ = preflight(capsys, "--config", str(config))
    rows = by(report)
    assert rows[("billing_topology", "api")]["verdict"] == "pass"  # a worker at zero replicas is not double processing
    assert "inline billing is allowed" in rows[("billing_topology", "api")]["reason"]
    assert rows[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "pass"
    assert rows[("database_backup", "agent-pg")]["verdict"] == "warn"
    assert code == 0  # warn passes


def test_four_replicas_and_a_worker_that_scales_to_zero_fails(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_world(azure, worker=worker_app(scale={"maxReplicas": 2}))
    code, report, _ = preflight(capsys, "--config", str(config))
    worker = [c for c in report["checks"] if c["check"] == "billing_topology" and c["subject"] == "worker"]
    assert [c["verdict"] for c in worker] == ["fail", "warn"]
    assert "may run 0 replicas" in worker[0]["reason"] and "scale.minReplicas 1" in worker[0]["fix"]
    assert code == 1


@pytest.mark.parametrize(
    ("persistence", "verdict", "words"),
    [
        ({"aofEnabled": False, "rdbEnabled": True, "rdbFrequency": "1h"}, "pass", "RDB on (1h)"),
        ({"aofEnabled": True, "aofFrequency": "1s", "rdbEnabled": False}, "pass", "AOF on (1s)"),
        ({"aofEnabled": False, "rdbEnabled": False}, "fail", "neither RDB nor AOF"),
    ],
)
def test_managed_redis_database_persistence(
    persistence: dict[str, Any],
    verdict: str,
    words: str,
    azure: responses.RequestsMock,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_world(azure)
    serve(azure, "Microsoft.Cache/redisEnterprise/agent-amr/databases/default", managed_redis(persistence))
    config.write_text(CONFIG.replace("azure_redis: agent-redis", "azure_managed_redis: agent-amr"))
    code, report, _ = preflight(capsys, "--config", str(config))
    row = by(report)[("redis_backup", "agent-amr")]
    assert row["verdict"] == verdict and words in row["reason"]
    assert code == (0 if verdict == "pass" else 1)


def test_rotation_reads_the_revision_and_is_unknown_for_an_inline_secret(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = FakeKeyVault("kv-prod")
    vault.add("database-url", datetime(2026, 11, 1, tzinfo=UTC))
    vault.register(azure)
    serve_world(azure, api=api_app(secrets=[{"name": "database-url"}, kv("redis-url")]))
    for name in ("agent-api", "agent-billing-worker"):
        revision = {
            "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.App/containerApps/{name}"
            f"/revisions/{name}--r7",
            "name": f"{name}--r7",
            "properties": {
                "createdTime": "2026-11-30T10:00:00Z",
                "active": True,
                "replicas": 2,
                "healthState": "Healthy",
            },
        }
        serve(azure, f"Microsoft.App/containerApps/{name}/revisions/{name}--r7", revision)
    config.write_text(CONFIG + "  rotation: [DATABASE_URL]\n")
    code, report, err = preflight(capsys, "--config", str(config))
    assert report, err
    rows = by(report)
    row = rows[("rotation", "api/DATABASE_URL")]
    assert row["verdict"] == "unknown" and "inline app secret's last change is not visible" in row["reason"]
    assert rows[("rotation", "worker/DATABASE_URL")]["verdict"] == "pass"  # its Key Vault reference, read
    assert any("/revisions/agent-api--r7" in call.request.url for call in azure.calls)
    assert code == 1
    code, _, _ = preflight(capsys, "--config", str(config), "--allow-unknown")
    assert code == 0


def test_a_denied_read_exits_2_naming_the_reader_role(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    denied = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization"}}
    serve(azure, "Microsoft.App/containerApps/agent-api", denied, status=403)
    serve_world(azure)
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 2 and report == {}
    assert "Reader role" in err and "agent-api" in err and "Traceback" not in err


def test_an_unknown_app_exits_2_naming_the_setting(
    azure: responses.RequestsMock, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {"error": {"code": "ResourceNotFound", "message": "not found"}}
    serve(azure, "Microsoft.App/containerApps/agent-webb", missing, status=404)
    serve_world(azure)
    code, _, err = preflight(capsys, "--config", str(config), "--service", "web=agent-webb")
    assert code == 2 and "deploy.services.web" in err and "agent-webb" in err


def test_a_sovereign_cloud_endpoint_gets_every_request_and_the_token_scope(
    azure: responses.RequestsMock, config: Path, credential: FakeCredential, capsys: pytest.CaptureFixture[str]
) -> None:
    gov = "https://management.usgovcloudapi.net"
    serve_world(azure, base=gov)
    code, report, _ = preflight(capsys, "--config", str(config), "--arm-endpoint", gov)
    assert code == 0, report
    assert all(call.request.url.startswith(gov) for call in azure.calls)
    assert set(credential.scopes) == {f"{gov}/.default"}


def test_app_files_are_judged_with_no_cloud(
    credential: FakeCredential, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for role, doc in (("api", api_app()), ("web", web_app()), ("worker", worker_app())):
        files[role] = tmp_path / f"{role}.json"
        files[role].write_text(json.dumps(doc))
    args = ["--platform", "container-apps"] + [a for role, p in files.items() for a in ("--app-file", f"{role}={p}")]
    with responses.RequestsMock() as mock:  # any request would raise: none may be made
        code, report, _ = preflight(capsys, *args)
        assert len(mock.calls) == 0
    assert report["calls"] == 0
    rows = by(report)
    assert rows[("secret_refs", "api/DATABASE_URL")]["verdict"] == "pass"
    assert rows[("billing_topology", "worker")]["verdict"] == "pass"
    assert rows[("database_backup", "database")]["verdict"] == "warn"  # none configured
    assert code == 0
