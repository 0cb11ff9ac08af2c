"""An ECS production as the runbook wants it, built in moto through boto3 (tests and the benchmark).

api (2 tasks, autoscaling up to 4) with billing off, web, a dedicated billing worker (1 task),
DATABASE_URL in Secrets Manager, REDIS_URL in SSM Parameter Store, an RDS instance with 7 days of
backups and an ElastiCache replication group with 1 day of snapshots. Every knob a test turns is a
field of :class:`EcsWorld`; :func:`build` returns the ARNs it made.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from release_kit.clouds.aws import Aws
from tests.fakes.aws_proxy import Proxy, serve_proxy

CLUSTER = "prod"
BACKENDS = ("ecs", "secretsmanager", "ssm", "applicationautoscaling", "rds", "elasticache")
REGION = "us-east-1"

CONFIG = """
deploy:
  platform: ecs
  region: us-east-1
  cluster: prod
  services: {api: agent-api, web: agent-web, worker: agent-billing-worker}
  backups:
    database: {rds_instance: agent-pg}
    redis: {elasticache_replication_group: agent-redis}
  rotation: [JWT_SIGNING_KEY]
"""


def api_env() -> dict[str, str]:
    return {
        "AUTO_RUN_MIGRATIONS": "false",
        "ENABLE_BILLING_RETRY_WORKER": "false",
        "ENABLE_BILLING_STREAM_REPLAY": "false",
        "LOG_LEVEL": "info",
    }


def worker_env() -> dict[str, str]:
    return {
        "ENABLE_BILLING_RETRY_WORKER": "true",
        "ENABLE_BILLING_STREAM_REPLAY": "true",
        "BILLING_RETRY_DEPLOYMENT_MODE": "dedicated",
    }


@dataclass
class EcsWorld:
    api_env: dict[str, str] = field(default_factory=api_env)
    worker_env: dict[str, str] = field(default_factory=worker_env)
    web_env: dict[str, str] = field(default_factory=lambda: {"PUBLIC_API_URL": "https://api.example.test"})
    # NAME -> valueFrom ("{database_secret}", "{jwt_secret}" stand for the ARNs made); default DATABASE_URL,
    # REDIS_URL and JWT_SIGNING_KEY
    api_secrets: dict[str, str] = field(default_factory=dict)
    worker_secrets: dict[str, str] = field(default_factory=dict)  # default DATABASE_URL, REDIS_URL
    api_env_files: list[str] = field(default_factory=list)
    api_desired: int = 2
    api_max: int | None = 4  # autoscaling MaxCapacity; None: no scalable target
    worker: bool = True
    worker_desired: int = 1
    worker_max: int | None = None
    database_retention: int = 7
    aurora: bool = False
    redis_retention: int = 1
    extra_secrets: int = 0  # more Secrets Manager references on the api (benchmark size)


def _container(name: str, env: dict[str, str], secrets_: dict[str, str], files: list[str]) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": name,
        "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:1.4.0",
        "memory": 512,
        "environment": [{"name": k, "value": v} for k, v in env.items()],
        "secrets": [{"name": k, "valueFrom": v} for k, v in secrets_.items()],
    }
    if files:
        c["environmentFiles"] = [{"value": f, "type": "s3"} for f in files]
    return c


def build(world: EcsWorld) -> dict[str, str]:
    session = Aws(REGION)
    ecs = session.client("ecs")
    sm = session.client("secretsmanager")
    ssm = session.client("ssm")
    out: dict[str, str] = {}
    ecs.create_cluster(clusterName=CLUSTER)
    value = f"postgres://app:{secrets.token_hex(8)}@db.internal:5432/app"
    out["database_secret"] = sm.create_secret(Name="prod/database-url", SecretString=value)["ARN"]
    out["jwt_secret"] = sm.create_secret(Name="prod/jwt-signing-key", SecretString=secrets.token_hex(16))["ARN"]
    ssm.put_parameter(Name="/prod/redis-url", Value="redis://cache.internal:6379", Type="SecureString")
    out["redis_parameter"] = "/prod/redis-url"
    api_secrets = {k: v.format(**out) for k, v in world.api_secrets.items()} or {
        "DATABASE_URL": out["database_secret"],
        "REDIS_URL": "/prod/redis-url",
        "JWT_SIGNING_KEY": out["jwt_secret"],
    }
    for i in range(world.extra_secrets):
        arn = sm.create_secret(Name=f"prod/extra-{i}", SecretString=secrets.token_hex(8))["ARN"]
        api_secrets[f"EXTRA_{i}"] = arn
    worker_secrets = {k: v.format(**out) for k, v in world.worker_secrets.items()} or {
        "DATABASE_URL": out["database_secret"],
        "REDIS_URL": "/prod/redis-url",
    }
    roles = [
        ("api", "agent-api", world.api_env, api_secrets, world.api_env_files, world.api_desired),
        ("web", "agent-web", world.web_env, {}, [], 2),
    ]
    if world.worker:
        roles.append(("worker", "agent-billing-worker", world.worker_env, worker_secrets, [], world.worker_desired))
    for role, service, env, secrets_, files, desired in roles:
        td = ecs.register_task_definition(
            family=service, containerDefinitions=[_container(role, env, secrets_, files)]
        )["taskDefinition"]
        out[f"{role}_task_definition"] = td["taskDefinitionArn"]
        ecs.create_service(
            cluster=CLUSTER, serviceName=service, taskDefinition=td["taskDefinitionArn"], desiredCount=desired
        )
    scaling = session.client("application-autoscaling")
    for service, high, low in (
        ("agent-api", world.api_max, world.api_desired),
        ("agent-billing-worker", world.worker_max, 1),
    ):
        if high is not None and (service != "agent-billing-worker" or world.worker):
            scaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=f"service/{CLUSTER}/{service}",
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=low,
                MaxCapacity=high,
            )
    rds = session.client("rds")
    if world.aurora:
        rds.create_db_cluster(
            DBClusterIdentifier="agent-aurora",
            Engine="aurora-postgresql",
            MasterUsername="app",
            MasterUserPassword=secrets.token_hex(12),
            BackupRetentionPeriod=world.database_retention,
        )
    else:
        rds.create_db_instance(
            DBInstanceIdentifier="agent-pg",
            Engine="postgres",
            DBInstanceClass="db.t4g.medium",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword=secrets.token_hex(12),
            BackupRetentionPeriod=world.database_retention,
        )
    session.client("elasticache").create_replication_group(
        ReplicationGroupId="agent-redis",
        ReplicationGroupDescription="agent cache",
        Engine="redis",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=1,
        SnapshotRetentionLimit=world.redis_retention,
    )
    return out


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free 127.0.0.1 port for a whole test module (starting one costs about a second)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        reset_backends()


def reset_backends() -> None:
    """Forget what the preflight tests made, in the services they use only (a full reset is slow)."""
    from moto.backends import get_backend

    for name in BACKENDS:
        get_backend(name).reset()  # type: ignore[call-overload]


@contextmanager
def aws_through_proxy(monkeypatch: pytest.MonkeyPatch, moto_url: str, *, latency: float = 0.0) -> Iterator[Proxy]:
    """boto3 -> a recording proxy -> moto, with test credentials; backends wiped afterwards."""
    with serve_proxy(moto_url, latency=latency) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-marker")
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        try:
            yield proxy
        finally:
            reset_backends()
