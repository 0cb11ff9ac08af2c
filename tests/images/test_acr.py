"""ACR's service-principal exchange and tag locking, at the HTTP layer (Azure cannot be reached here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

import httpx
import pytest

from release_kit import gha
from release_kit.errors import AccessError, InputError
from release_kit.images.acr import REFRESH_TOKEN_USER, lock_tags, service_principal_login
from release_kit.images.distribution import DistributionClient
from release_kit.images.reference import parse_registry

ENV = {"AZURE_CLIENT_ID": "app-id", "AZURE_CLIENT_SECRET": "sp-Secret-Value-123", "AZURE_TENANT_ID": "tenant-1"}


@dataclass
class AccessToken:
    token: str


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("aad-Access-Token-xyz")


def test_service_principal_exchange(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    seen: list[dict[str, list[str]]] = []

    def acr(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/oauth2/exchange"
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json={"refresh_token": "acr-Refresh-Token-abc"})

    registry = parse_registry("myregistry.azurecr.io")
    credential = FakeCredential()
    login = service_principal_login(
        registry, "https://myregistry.azurecr.io", ENV, credential=credential, transport=httpx.MockTransport(acr)
    )
    assert login.username == REFRESH_TOKEN_USER and login.password == "acr-Refresh-Token-abc"
    assert credential.scopes == ["https://management.azure.com/.default"]
    assert seen == [
        {
            "grant_type": ["access_token"],
            "service": ["myregistry.azurecr.io"],
            "tenant": ["tenant-1"],
            "access_token": ["aad-Access-Token-xyz"],
        }
    ]
    masks = capsys.readouterr().out
    for secret in ("sp-Secret-Value-123", "aad-Access-Token-xyz", "acr-Refresh-Token-abc"):
        assert f"::add-mask::{secret}" in masks
        assert gha.redact(f"x {secret} y") == "x *** y"
    assert "acr-Refresh-Token-abc" not in repr(login)


def test_refused_exchange_names_the_role(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"errors": []}))
    with pytest.raises(AccessError) as info:
        service_principal_login(
            parse_registry("myregistry.azurecr.io"), "https://x", ENV, credential=FakeCredential(), transport=transport
        )
    assert "AcrPush" in info.value.one_line()


def test_missing_service_principal_settings() -> None:
    with pytest.raises(InputError, match="AZURE_TENANT_ID not set"):
        service_principal_login(parse_registry("myregistry.azurecr.io"), "https://x", {**ENV, "AZURE_TENANT_ID": ""})


def test_lock_tags_patches_each_tag_after_the_token_challenge() -> None:
    calls: list[tuple[str, str, str]] = []

    def acr(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            calls.append(("token", request.url.params.get("scope", ""), request.headers.get("authorization", "")))
            return httpx.Response(200, json={"access_token": "scoped-token"})
        if request.headers.get("authorization") != "Bearer scoped-token":
            challenge = 'Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io"'
            return httpx.Response(401, headers={"www-authenticate": challenge})
        calls.append((request.method, request.url.path, json.loads(request.content)["writeEnabled"]))
        return httpx.Response(200, json={})

    client = DistributionClient(
        "https://myregistry.azurecr.io",
        username=REFRESH_TOKEN_USER,
        password="refresh",
        transport=httpx.MockTransport(acr),
    )
    lock_tags(client, "agent-saas/api", ["1.4.0", "latest"])
    assert calls[0][:2] == ("token", "repository:agent-saas/api:metadata_read,metadata_write")
    assert calls[0][2].startswith("Basic ")
    assert calls[1:] == [
        ("PATCH", "/acr/v1/agent-saas/api/_tags/1.4.0", False),
        ("PATCH", "/acr/v1/agent-saas/api/_tags/latest", False),
    ]


def test_lock_tags_is_refused_off_acr(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from release_kit.cli import run_cli
    from tests.images.images import oci_layout, random_layer

    layout = oci_layout(tmp_path / "img", [random_layer(10)])
    args = ["publish-images", "--registry", "127.0.0.1:1", "--image-prefix", "org", f"--image=api={layout}"]
    assert run_cli([*args, "--tag", "1", "--lock-tags"]) == 2
    assert "--lock-tags works on ACR only" in capsys.readouterr().err
