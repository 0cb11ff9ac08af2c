"""preflight on ECS end to end: the real CLI, real boto3 over HTTP to moto's server on 127.0.0.1.

A recording proxy sits between boto3 and moto, so the tests see every AWS operation made (and
can deny one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from release_kit.cli import run_cli
from tests.fakes.aws import backend
from tests.fakes.aws_proxy import Proxy
from tests.fakes.ecs_world import CONFIG, EcsWorld, api_env, aws_through_proxy, build, moto_server, worker_env

SECRET_READS = {
    "GetSecretValue",
    "BatchGetSecretValue",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "Decrypt",
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, server: str) -> Iterator[Proxy]:
    with aws_through_proxy(monkeypatch, server) as proxy:
        yield proxy


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "release-kit.yml"
    path.write_text(CONFIG)
    return path


def preflight(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    code = run_cli(["preflight", "--config", str(config), "--format", "json", *args])
    out = capsys.readouterr()
    report = json.loads(out.out) if out.out.strip().startswith("{") else {}
    return code, report, out.err


def rows(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["check"], c["subject"]): c for c in report["checks"]}


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {k: v["verdict"] for k, v in rows(report).items()}


def test_a_production_as_the_runbook_wants_passes_in_few_calls_reading_no_secret(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = build(EcsWorld())
    aws.operations.clear()
    code, report, _ = preflight(capsys, config)
    assert code == 0, report
    assert report["platform"] == "ecs" and report["passed"] is True
    assert set(report) == {"command_path", "started_at", "finished_at", "platform", "passed", "checks", "calls"}
    assert {c["verdict"] for c in report["checks"]} == {"pass"}
    got = verdicts(report)
    for key in [
        ("secret_refs", "api/DATABASE_URL"),
        ("secret_refs", "api/REDIS_URL"),
        ("secret_refs", "worker/DATABASE_URL"),
        ("env", "api/AUTO_RUN_MIGRATIONS"),
        ("billing_topology", "api"),
        ("billing_topology", "worker"),
        ("database_backup", "agent-pg"),
        ("redis_backup", "agent-redis"),
        ("rotation", "api/JWT_SIGNING_KEY"),
    ]:
        assert got[key] == "pass", key
    # one batched DescribeServices, one DescribeScalableTargets, one DescribeParameters for every name
    assert aws.operations.count("DescribeServices") == 1
    assert aws.operations.count("DescribeScalableTargets") == 1
    assert aws.operations.count("DescribeParameters") == 1
    assert aws.operations.count("DescribeSecret") == 2  # the database URL and the JWT key, each once
    assert not SECRET_READS & set(aws.operations), aws.operations
    assert report["calls"] == len(aws.operations) <= 20
    assert made["database_secret"] in rows(report)[("secret_refs", "api/DATABASE_URL")]["reason"]


def test_broken_references_fail_and_good_suffixed_ones_pass(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("secretsmanager").create_secret(Name="prod/old-db", SecretString="x" * 12)
    old = boto3.client("secretsmanager").describe_secret(SecretId="prod/old-db")["ARN"]
    boto3.client("secretsmanager").delete_secret(SecretId=old, RecoveryWindowInDays=7)
    west = boto3.client("secretsmanager", region_name="us-west-2")
    jwt = west.create_secret(Name="prod/jwt-west", SecretString="y" * 12)["ARN"]  # another region than the services
    build(
        EcsWorld(
            api_secrets={
                "DATABASE_URL": old + ":url::",  # scheduled for deletion, with a JSON-key suffix
                "REDIS_URL": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/missing",
                "JWT_SIGNING_KEY": jwt,
            },
            worker_secrets={
                "DATABASE_URL": "{database_secret}:password:AWSCURRENT:",  # JSON key + stage: still the secret
                "REDIS_URL": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/redis-url",
            },
        )
    )
    code, report, _ = preflight(capsys, config)
    assert code == 1 and report["passed"] is False
    by = rows(report)
    assert by[("secret_refs", "api/DATABASE_URL")]["verdict"] == "fail"
    assert "scheduled for deletion" in by[("secret_refs", "api/DATABASE_URL")]["reason"]
    assert by[("secret_refs", "api/REDIS_URL")]["verdict"] == "fail"
    assert "does not exist in SSM Parameter Store" in by[("secret_refs", "api/REDIS_URL")]["reason"]
    assert by[("secret_refs", "worker/DATABASE_URL")]["verdict"] == "pass"
    assert by[("secret_refs", "worker/REDIS_URL")]["verdict"] == "pass"
    assert by[("rotation", "api/JWT_SIGNING_KEY")]["verdict"] == "pass"  # found in us-west-2, unchanged
    assert report["checks"][0]["verdict"] == "fail"  # failures first


def test_a_secret_arn_naming_an_invalid_region_fails_that_reference_with_the_reason(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = "arn:aws:secretsmanager:us_east 1:123456789012:secret:prod/jwt-AbCdEf"  # not a region name botocore accepts
    build(
        EcsWorld(api_secrets={"DATABASE_URL": bad, "REDIS_URL": "/prod/redis-url", "JWT_SIGNING_KEY": "{jwt_secret}"})
    )
    code, report, err = preflight(capsys, config)
    assert code == 1, err  # judged, not a crash (was exit 70: botocore's InvalidRegionError)
    row = rows(report)[("secret_refs", "api/DATABASE_URL")]
    assert row["verdict"] == "fail"
    assert "'us_east 1'" in row["reason"] and "not a valid AWS region" in row["reason"]
    assert rows(report)[("secret_refs", "api/REDIS_URL")]["verdict"] == "pass"  # the others still judged
    assert rows(report)[("rotation", "api/JWT_SIGNING_KEY")]["verdict"] == "pass"
    assert "internal error" not in err


def test_a_literal_database_url_fails_and_its_password_never_leaks(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    password = "hunter2-" + "q7" * 6
    env = api_env() | {
        "DATABASE_URL": f"postgres://app:{password}@db:5432/app",
        "STRIPE_API_KEY": "sk_live_" + "z" * 16,
        "CACHE_URL": f"redis://:{password}@cache:6379",
    }
    build(EcsWorld(api_env=env, api_secrets={"REDIS_URL": "/prod/redis-url"}))
    report_file = tmp_path / "report.json"
    code = run_cli(["preflight", "--config", str(config), "--report", str(report_file)])
    out = capsys.readouterr()
    assert code == 1
    report = json.loads(report_file.read_text())
    got = verdicts(report)
    assert got[("secret_refs", "api/DATABASE_URL")] == "fail"
    assert "literal value" in rows(report)[("secret_refs", "api/DATABASE_URL")]["reason"]
    assert got[("plain_secret", "api/STRIPE_API_KEY")] == "warn"
    assert got[("plain_secret", "api/CACHE_URL")] == "warn"  # a URL with a password
    assert ("plain_secret", "api/DATABASE_URL") not in got  # secret_refs already fails it
    assert ("plain_secret", "api/LOG_LEVEL") not in got
    for text in (out.out, out.err, report_file.read_text()):
        assert password not in text and "sk_live_" not in text


def test_billing_topology_autoscaling_ceiling_wrong_worker_mode_and_scaling_worker(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(
        EcsWorld(
            api_desired=1,
            api_max=4,  # desiredCount 1, but autoscaling may run 4: the ceiling is 4
            api_env=api_env() | {"ENABLE_BILLING_RETRY_WORKER": "true"},
            worker_env=worker_env() | {"BILLING_RETRY_DEPLOYMENT_MODE": "inline"},
            worker_max=3,
        )
    )
    code, report, _ = preflight(capsys, config)
    assert code == 1
    checks = [c for c in report["checks"] if c["check"] == "billing_topology"]
    api = next(c for c in checks if c["subject"] == "api")
    assert api["verdict"] == "fail"
    assert "4 replicas" in api["reason"] and "ENABLE_BILLING_RETRY_WORKER is 'true'" in api["reason"]
    assert api["fix"] == "set ENABLE_BILLING_RETRY_WORKER=false on the api"
    worker = [c for c in checks if c["subject"] == "worker"]
    assert [c["verdict"] for c in worker] == ["fail", "warn"]
    assert worker[0]["fix"] == "set BILLING_RETRY_DEPLOYMENT_MODE=dedicated on the worker"
    assert "scale to 3 replicas" in worker[1]["reason"]


def test_a_missing_worker_environment_files_and_weak_backups(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in api_env().items() if k != "AUTO_RUN_MIGRATIONS"}
    build(
        EcsWorld(
            worker=False,
            api_env=env,
            api_env_files=["arn:aws:s3:::agent-config/api.env"],
            database_retention=1,
            redis_retention=0,
        )
    )
    config.write_text(CONFIG.replace(", worker: agent-billing-worker", ""))
    code, report, _ = preflight(capsys, config)
    assert code == 1
    by = rows(report)
    assert by[("billing_topology", "worker")]["verdict"] == "fail"
    assert "no dedicated billing worker" in by[("billing_topology", "worker")]["reason"]
    assert by[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "unknown"  # an environment file may set it
    assert by[("database_backup", "agent-pg")]["verdict"] == "fail"
    assert "--backup-retention-period 7" in by[("database_backup", "agent-pg")]["fix"]
    assert by[("redis_backup", "agent-redis")]["verdict"] == "fail"
    assert "automatic snapshots are off" in by[("redis_backup", "agent-redis")]["reason"]


def test_aurora_with_a_stale_restorable_time_rotation_and_double_processing(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    build(
        EcsWorld(
            aurora=True,
            api_desired=1,
            api_max=None,
            api_env=api_env() | {"ENABLE_BILLING_STREAM_REPLAY": "true"},  # inline on a one-replica API...
        )
    )  # ...while the dedicated worker is on too
    cluster = backend("rds").clusters["agent-aurora"]
    stale = datetime.now(UTC) - timedelta(hours=30)
    monkeypatch.setattr(type(cluster), "latest_restorable_time", property(lambda self: stale))
    # the running api deployment started an hour ago; the JWT key is rotated now
    service = backend("ecs").services["prod:agent-api"]
    service.deployments[0]["createdAt"] = datetime.now(UTC) - timedelta(hours=1)
    boto3.client("secretsmanager").put_secret_value(SecretId="prod/jwt-signing-key", SecretString="new-" * 8)
    config.write_text(CONFIG.replace("rds_instance: agent-pg", "rds_cluster: agent-aurora"))
    code, report, _ = preflight(capsys, config)
    assert code == 1
    by = rows(report)
    db = by[("database_backup", "agent-aurora")]
    assert db["verdict"] == "fail" and "30.0 h old" in db["reason"]
    rotation = by[("rotation", "api/JWT_SIGNING_KEY")]
    assert rotation["verdict"] == "fail" and "still hold the old value" in rotation["reason"]
    assert "redeploy to pick up the rotated secret" in rotation["fix"]
    api = by[("billing_topology", "api")]
    assert api["verdict"] == "warn" and "double processing" in api["reason"]


def test_a_denied_permission_exits_2_naming_the_iam_action(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(EcsWorld())
    aws.deny.add("DescribeServices")
    code, report, err = preflight(capsys, config)
    assert code == 2 and report == {}
    assert "ecs:DescribeServices" in err and "Traceback" not in err
    assert len(err.strip().splitlines()[-1]) < 300


def test_an_unknown_service_exits_2_naming_it(aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(EcsWorld())
    code, _, err = preflight(capsys, config, "--service", "web=agent-webb")
    assert code == 2
    assert "'agent-webb' (web) not found in cluster 'prod'" in err


def test_a_task_definition_file_is_judged_instead_of_the_running_revision(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    build(EcsWorld(api_env=api_env() | {"AUTO_RUN_MIGRATIONS": "true"}))
    code, report, _ = preflight(capsys, config)
    assert code == 1 and verdicts(report)[("env", "api/AUTO_RUN_MIGRATIONS")] == "fail"
    running = boto3.client("ecs").describe_task_definition(taskDefinition="agent-api")  # what the render action edits
    td = running["taskDefinition"]
    for var in td["containerDefinitions"][0]["environment"]:
        if var["name"] == "AUTO_RUN_MIGRATIONS":
            var["value"] = "False"
    path = tmp_path / "task-definition.json"
    path.write_text(json.dumps({"taskDefinition": td}, default=str))
    code, report, _ = preflight(capsys, config, "--task-definition", f"api={path}")
    assert code == 0, report
    by = rows(report)
    assert by[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "pass"  # case-insensitive boolean
    assert "a new revision is about to be deployed" in by[("rotation", "api/JWT_SIGNING_KEY")]["reason"]


SERVERLESS = """<DescribeServerlessCachesResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">
  <DescribeServerlessCachesResult>
    <ServerlessCaches>
      <member>
        <ServerlessCacheName>agent-cache</ServerlessCacheName>
        <Status>available</Status>
        <Engine>valkey</Engine>
        <MajorEngineVersion>8</MajorEngineVersion>
        <ARN>arn:aws:elasticache:us-east-1:123456789012:serverlesscache:agent-cache</ARN>
        <SnapshotRetentionLimit>{days}</SnapshotRetentionLimit>
        <DailySnapshotTime>04:00</DailySnapshotTime>
      </member>
    </ServerlessCaches>
  </DescribeServerlessCachesResult>
  <ResponseMetadata><RequestId>7f3c</RequestId></ResponseMetadata>
</DescribeServerlessCachesResponse>"""
NOT_FOUND = """<ErrorResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">
  <Error><Type>Sender</Type><Code>ServerlessCacheNotFoundFault</Code><Message>not found</Message></Error>
  <RequestId>7f3d</RequestId>
</ErrorResponse>"""


def test_elasticache_serverless_snapshot_retention_and_an_unknown_cache(
    aws: Proxy, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto has no serverless caches: the proxy answers DescribeServerlessCaches as AWS would
    build(EcsWorld())
    config.write_text(
        CONFIG.replace("elasticache_replication_group: agent-redis", "elasticache_serverless: agent-cache")
    )
    xml = "text/xml"
    for days, verdict in ((0, "fail"), (3, "pass")):
        aws.answers["DescribeServerlessCaches"] = (200, xml, SERVERLESS.format(days=days).encode())
        _, report, _ = preflight(capsys, config)
        row = rows(report)[("redis_backup", "agent-cache")]
        assert row["verdict"] == verdict, row
        if verdict == "fail":
            assert (
                "modify-serverless-cache --serverless-cache-name agent-cache --snapshot-retention-limit 1" in row["fix"]
            )
    aws.answers["DescribeServerlessCaches"] = (404, xml, NOT_FOUND.encode())
    code, _, err = preflight(capsys, config)
    assert code == 2 and "ElastiCache serverless 'agent-cache' not found" in err
