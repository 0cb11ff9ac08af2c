"""The deploy: section, flag overrides, and the shared AWS and Azure error mapping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from release_kit import config
from release_kit.clouds import arm, aws
from release_kit.errors import AccessError, ConfigError, InputError, NotFoundError, RemoteError, RemoteGaveUp
from release_kit.target.settings import DeploySettings, parse_role_pairs

EXAMPLE = """
deploy:
  platform: ecs
  region: us-east-1
  cluster: prod
  services: {api: agent-api, web: agent-web, worker: agent-billing-worker}
  containers: {api: api}
  backups:
    database: {rds_instance: agent-pg}
    redis: {elasticache_replication_group: agent-redis}
    max_restore_lag: 12h
  rotation: [JWT_SIGNING_KEY]
"""


def test_the_issue_example_loads_with_the_runbook_defaults() -> None:
    settings = config.parse(EXAMPLE, "x.yml").deploy
    assert settings is not None
    assert settings.platform == "ecs"
    assert settings.services["worker"] == "agent-billing-worker"
    assert settings.secret_refs == ["DATABASE_URL", "REDIS_URL"]
    assert settings.env == {"api": {"AUTO_RUN_MIGRATIONS": "false"}}
    assert settings.backups.database is not None and settings.backups.database.kind == "rds_instance"
    assert settings.backups.max_restore_lag == timedelta(hours=12)
    assert settings.backups.min_retention_days == 7


def test_unknown_roles_and_two_databases_are_config_errors_with_the_line() -> None:
    with pytest.raises(ConfigError, match=r"x\.yml:3"):
        config.parse("deploy:\n  services:\n    cron: x\n", "x.yml")
    with pytest.raises(ConfigError, match="exactly one"):
        config.parse("deploy:\n  backups:\n    database: {rds_instance: a, rds_cluster: b}\n", "x.yml")


def test_flags_override_the_file_and_keep_the_rest() -> None:
    settings = config.parse(EXAMPLE, "x.yml").deploy
    assert settings is not None
    changed = settings.with_overrides(cluster="staging", services={"api": "api-2"}, platform=None)
    assert changed.cluster == "staging"
    assert changed.services == {"api": "api-2"}
    assert changed.region == "us-east-1"
    assert DeploySettings().with_overrides(platform="container-apps").platform == "container-apps"


def test_missing_settings_name_the_setting_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(InputError, match="--platform"):
        DeploySettings().require_platform()
    with pytest.raises(InputError, match=r"--service api=NAME"):
        DeploySettings().require_service("api")
    with pytest.raises(InputError, match="AWS_REGION"):
        DeploySettings().aws_region()
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert DeploySettings().aws_region() == "eu-west-1"


def test_role_pairs() -> None:
    assert parse_role_pairs(("api=a web=b",), "--service") == {"api": "a", "web": "b"}
    with pytest.raises(InputError, match="unknown role 'cron'"):
        parse_role_pairs(("cron=x",), "--service")
    with pytest.raises(InputError, match="ROLE=VALUE"):
        parse_role_pairs(("api",), "--service")


def _client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def _raises(exc: Exception) -> Any:
    def fn() -> None:
        raise exc

    return fn


@pytest.mark.parametrize(
    ("code", "status", "error", "text"),
    [
        ("AccessDeniedException", 400, AccessError, "allow ecs:DescribeServices"),
        ("UnrecognizedClientException", 400, AccessError, "credentials"),
        ("ThrottlingException", 400, RemoteGaveUp, "kept failing"),
        ("InternalError", 500, RemoteGaveUp, "kept failing"),
        ("InvalidParameterException", 400, RemoteError, "InvalidParameterException"),
    ],
)
def test_aws_errors_map_to_exit_codes(code: str, status: int, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as caught:
        aws.call("ecs:DescribeServices", _raises(_client_error(code, status)))
    assert text in caught.value.one_line()  # type: ignore[attr-defined]


def test_aws_missing_codes_are_none() -> None:
    assert (
        aws.call("ssm:GetParameter", _raises(_client_error("ParameterNotFound")), missing=("ParameterNotFound",))
        is None
    )


def _http_error(status: int) -> Exception:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    kind = {404: ResourceNotFoundError, 401: ClientAuthenticationError}.get(status, HttpResponseError)
    exc = kind(message="no")
    exc.status_code = status
    return exc


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (403, AccessError, "assign the Reader role"),
        (404, NotFoundError, "no such"),
        (503, RemoteGaveUp, "kept failing"),
    ],
)
def test_arm_errors_map_to_exit_codes(status: int, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as caught:
        arm.call("read container app api", "Reader", _raises(_http_error(status)))
    assert text in caught.value.one_line()  # type: ignore[attr-defined]
    assert arm.call("read x", "Reader", _raises(_http_error(404)), missing_ok=True) is None


def test_arm_endpoint_must_be_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_ARM_ENDPOINT", raising=False)
    assert arm.arm_endpoint(None) == "https://management.azure.com"
    assert arm.arm_endpoint("https://management.usgovcloudapi.net/") == "https://management.usgovcloudapi.net"
    with pytest.raises(InputError, match="--arm-endpoint"):
        arm.arm_endpoint("http://evil.example")
