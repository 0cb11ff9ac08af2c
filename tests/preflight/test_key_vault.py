"""preflight's rotation check on Container Apps: the running revision's ``createdTime`` against the
Key Vault secret's last change, read by the real azure-keyvault-secrets client (its challenge
policy included) from ``responses`` playing Key Vault. Properties only: a value is never asked for.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses

from release_kit.platforms.container_apps.key_vault import NotAVault, parse_secret_url
from tests.fakes.container_apps import FakeCredential
from tests.fakes.key_vault import FakeKeyVault
from tests.preflight.test_container_apps import (
    CONFIG,
    RG,
    SUB,
    api_app,
    by,
    env,
    preflight,
    serve,
    serve_world,
)

DEPLOYED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
BEFORE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
ROTATION = CONFIG + "  rotation: [DATABASE_URL]\n"


@pytest.fixture
def vault(azure: responses.RequestsMock) -> FakeKeyVault:
    fake = FakeKeyVault("kv-prod")
    fake.register(azure)
    return fake


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "release-kit.yml"
    path.write_text(ROTATION)
    return path


def serve_revisions(mock: responses.RequestsMock, created: datetime = DEPLOYED) -> None:
    for name in ("agent-api", "agent-billing-worker"):
        revision = {
            "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.App/containerApps/{name}"
            f"/revisions/{name}--r7",
            "name": f"{name}--r7",
            "properties": {"createdTime": f"{created:%Y-%m-%dT%H:%M:%SZ}", "active": True, "replicas": 2},
        }
        serve(mock, f"Microsoft.App/containerApps/{name}/revisions/{name}--r7", revision)


def with_secret(url: str) -> dict[str, Any]:
    """The api app, its DATABASE_URL read from ``url``."""
    return api_app(secrets=[{"name": "database-url", "keyVaultUrl": url, "identity": "system"}])


def vault_requests(mock: responses.RequestsMock) -> list[str]:
    return [c.request.url for c in mock.calls if ".vault." in str(c.request.url)]


def test_a_secret_rotated_after_the_running_revision_fails_with_the_redeploy(
    azure: responses.RequestsMock,
    vault: FakeKeyVault,
    config: Path,
    credential: FakeCredential,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_world(azure)
    serve_revisions(azure)
    vault.add("database-url", BEFORE)
    vault.add("database-url", AFTER)  # the rotation
    vault.add("database-url", AFTER.replace(hour=20), enabled=False)  # a disabled newer version is not read
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 1, err
    rows = by(report)
    for role in ("api", "worker"):
        row = rows[("rotation", f"{role}/DATABASE_URL")]
        assert row["verdict"] == "fail"
        assert (
            "changed at 2026-11-30T18:30:00Z, after the running deployment started (2026-11-30T10:00:00Z)"
            in (row["reason"])
        )
        assert "az containerapp revision restart" in row["fix"]
    # three apps, the server, the cache, two revisions, and one listing for the URL both apps share
    assert report["calls"] == 8
    assert set(vault.paths) == {"/secrets/database-url/versions"}
    assert "https://vault.azure.net/.default" in credential.scopes  # the vault's scope, from its challenge
    authorized = [c.request for c in azure.calls if c.request.headers.get("Authorization")]
    assert all(r.headers["Authorization"] == "Bearer fake-arm-token-for-tests" for r in authorized)
    assert "fake-arm-token-for-tests" not in json.dumps(report) + err


def test_a_secret_last_changed_before_the_running_revision_passes(
    azure: responses.RequestsMock, vault: FakeKeyVault, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_world(azure)
    serve_revisions(azure)
    vault.add("database-url", BEFORE)
    code, report, err = preflight(capsys, "--config", str(config))
    row = by(report)[("rotation", "api/DATABASE_URL")]
    assert row["verdict"] == "pass" and "unchanged since the running deployment started" in row["reason"]
    assert code == 0, err


def test_a_pinned_version_is_judged_by_that_version_not_the_newest(
    azure: responses.RequestsMock, vault: FakeKeyVault, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pinned = vault.add("database-url", BEFORE)
    vault.add("database-url", AFTER)  # newer, but the app does not read it
    serve_world(azure, api=with_secret(f"{vault.url}/secrets/database-url/{pinned}"))
    serve_revisions(azure)
    code, report, _ = preflight(capsys, "--config", str(config))
    rows = by(report)
    assert rows[("rotation", "api/DATABASE_URL")]["verdict"] == "pass"
    assert rows[("rotation", "worker/DATABASE_URL")]["verdict"] == "fail"  # the worker reads the newest
    assert code == 1


def test_a_vault_that_denies_the_listing_exits_2_naming_the_role_and_the_vault(
    azure: responses.RequestsMock, vault: FakeKeyVault, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_world(azure)
    serve_revisions(azure)
    vault.add("database-url", BEFORE)
    vault.forbidden = True
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 2 and report == {}
    assert "Key Vault Reader role" in err and "kv-prod" in err and "database-url" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_a_challenge_for_another_domain_gets_no_token_and_exits_2(
    azure: responses.RequestsMock,
    vault: FakeKeyVault,
    config: Path,
    credential: FakeCredential,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = FakeKeyVault("kv-challenged", resource="https://attacker.example")  # a vault this process never met
    other.add("database-url", BEFORE)
    other.register(azure)
    vault.add("database-url", BEFORE)
    serve_world(azure, api=with_secret(f"{other.url}/secrets/database-url"))
    serve_revisions(azure)
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 2 and report == {}
    assert "Key Vault kv-challenged asked for a token for another domain" in err and "Traceback" not in err
    assert not any("attacker" in scope for scope in credential.scopes)
    assert other.paths  # it was asked, once, without a token
    assert not any(c.request.headers.get("Authorization") for c in azure.calls if other.url in str(c.request.url))


@pytest.mark.parametrize(
    "url",
    [
        "https://kv-prod.vault.azure.net.attacker.example/secrets/database-url",
        "https://attacker.example/secrets/database-url",
        "http://kv-prod.vault.azure.net/secrets/database-url",
        "https://kv-prod.vault.azure.net:8443/secrets/database-url",
        "https://kv-prod.vault.azure.net/keys/database-url",
    ],
)
def test_a_key_vault_url_that_is_not_a_vault_secret_is_unknown_and_never_contacted(
    url: str, azure: responses.RequestsMock, vault: FakeKeyVault, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.add("database-url", BEFORE)
    serve_world(azure, api=with_secret(url))
    serve_revisions(azure)
    code, report, err = preflight(capsys, "--config", str(config))
    row = by(report)[("rotation", "api/DATABASE_URL")]
    assert row["verdict"] == "unknown" and "was not contacted" in row["reason"], row
    assert by(report)[("rotation", "worker/DATABASE_URL")]["verdict"] == "pass"  # its own, real vault
    assert all(u.startswith(vault.url + "/") for u in vault_requests(azure))
    assert code == 1, err


def test_no_request_ever_asks_for_a_secret_value(
    azure: responses.RequestsMock, vault: FakeKeyVault, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pinned = vault.add("redis-url", BEFORE)
    vault.add("database-url", BEFORE)
    api = api_app(
        variables=env(
            DATABASE_URL="ref:database-url",
            REDIS_URL="ref:redis-url",
            AUTO_RUN_MIGRATIONS="false",
            ENABLE_BILLING_RETRY_WORKER="false",
            ENABLE_BILLING_STREAM_REPLAY="false",
        ),
        secrets=[
            {"name": "database-url", "keyVaultUrl": f"{vault.url}/secrets/database-url", "identity": "system"},
            {"name": "redis-url", "keyVaultUrl": f"{vault.url}/secrets/redis-url/{pinned}", "identity": "system"},
        ],
    )
    serve_world(azure, api=api)
    serve_revisions(azure)
    config.write_text(CONFIG + "  rotation: [DATABASE_URL, REDIS_URL]\n")
    code, report, err = preflight(capsys, "--config", str(config))
    assert code == 0, err
    assert {by(report)[("rotation", f"api/{v}")]["verdict"] for v in ("DATABASE_URL", "REDIS_URL")} == {"pass"}
    requested = vault_requests(azure)
    assert requested  # the vault was read
    for url in requested:
        path = url.split("?")[0].removeprefix(vault.url)
        assert re.fullmatch(r"/secrets/[0-9a-z-]+/versions", path), url  # never /secrets/NAME[/VERSION]
    assert not any("listSecrets" in str(c.request.url) for c in azure.calls)


@pytest.mark.parametrize(
    ("url", "vault_url", "version"),
    [
        ("https://kv-prod.vault.azure.net/secrets/jwt-signing-key", "https://kv-prod.vault.azure.net", None),
        ("https://KV-prod.vault.azure.cn/secrets/jwt/" + "A" * 32, "https://kv-prod.vault.azure.cn", "a" * 32),
        ("https://kv-gov.vault.usgovcloudapi.net/secrets/jwt/", "https://kv-gov.vault.usgovcloudapi.net", None),
    ],
)
def test_vault_urls_of_each_cloud_are_read(url: str, vault_url: str, version: str | None) -> None:
    secret = parse_secret_url(url)
    assert (secret.vault_url, secret.version) == (vault_url, version)


@pytest.mark.parametrize(
    "url",
    [
        "https://vault.azure.net/secrets/jwt",  # no vault name
        "https://user:pw@kv-prod.vault.azure.net/secrets/jwt",
        "https://kv-prod.vault.azure.net/secrets/jwt/not-a-version",
        "https://kv-prod.vault.azure.net/secrets/jwt?api-version=1",
        "https://kv-prod.managedhsm.azure.net/secrets/jwt",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(NotAVault):
        parse_secret_url(url)
