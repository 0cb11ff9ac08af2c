"""Azure Container Registry: a service principal's login, and read-only tags.

A service principal signs in to Microsoft Entra ID through azure-identity (extra ``azure``,
imported lazily); ACR's ``/oauth2/exchange`` trades that access token for an ACR refresh token,
which then works as the password of the fixed user below, so the registry's ordinary token
challenge (``/oauth2/token``) issues the scoped access tokens. Tags are locked with ACR's
``/acr/v1`` API, authorized through the same challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from release_kit import gha
from release_kit.errors import AccessError, InputError, MissingExtra, RemoteError
from release_kit.http import make_client
from release_kit.images.credentials import Credentials
from release_kit.images.distribution import DistributionClient
from release_kit.images.reference import Registry

REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105 - ACR's fixed user name
AAD_SCOPE = "https://management.azure.com/.default"


class TokenCredential(Protocol):
    def get_token(self, *scopes: str) -> Any: ...


def _credential(env: Mapping[str, str]) -> TokenCredential:
    try:
        from azure.identity import ClientSecretCredential
    except ImportError:
        raise MissingExtra("azure", "ACR with a service principal") from None
    return ClientSecretCredential(
        tenant_id=env["AZURE_TENANT_ID"], client_id=env["AZURE_CLIENT_ID"], client_secret=env["AZURE_CLIENT_SECRET"]
    )


def service_principal_login(
    registry: Registry,
    endpoint: str,
    env: Mapping[str, str],
    *,
    credential: TokenCredential | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Credentials:
    missing = [n for n in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID") if not env.get(n)]
    if missing:
        raise InputError(f"ACR service principal: {', '.join(missing)} not set (all three are needed)")
    gha.mask(env["AZURE_CLIENT_SECRET"])
    credential = credential or _credential(env)
    try:
        aad_token = str(credential.get_token(AAD_SCOPE).token)
    except Exception as exc:  # azure-identity raises its own ClientAuthenticationError
        raise AccessError(
            f"Entra ID refused the service principal {env['AZURE_CLIENT_ID']}: {type(exc).__name__}"
        ) from None
    gha.mask(aad_token)
    with make_client(base_url=endpoint, transport=transport) as http:
        answer = http.post(
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": registry.hostname,
                "tenant": env["AZURE_TENANT_ID"],
                "access_token": aad_token,
            },
        )
    if answer.status_code in (401, 403):
        raise AccessError(
            f"ACR {registry.host} refused the service principal's token ({answer.status_code})",
            hint="give the service principal the AcrPush role on the registry",
        )
    if answer.status_code != 200:
        raise RemoteError(f"ACR {registry.host} answered {answer.status_code} to the token exchange")
    refresh = str(answer.json().get("refresh_token") or "")
    if not refresh:
        raise RemoteError(f"ACR {registry.host} answered the token exchange without a refresh token")
    gha.mask(refresh)
    return Credentials(REFRESH_TOKEN_USER, refresh)


def lock_tags(client: DistributionClient, repository: str, tags: list[str]) -> None:
    """Make each tag read-only: it can no longer be overwritten or deleted."""
    scope = f"repository:{repository}:metadata_read,metadata_write"
    for tag in tags:
        response = client.request(
            "PATCH",
            f"/acr/v1/{repository}/_tags/{tag}",
            scope,
            content=b'{"writeEnabled": false, "deleteEnabled": false}',
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise RemoteError(f"ACR did not lock tag {repository}:{tag} ({response.status_code})")
