"""Azure Key Vault's secrets data plane, as ``responses`` callbacks answering azure-keyvault-secrets'
real requests: the 401 bearer challenge first (as the service does for a request without a token),
then the versions listing (ids and attributes, never a value). Nothing else is registered, so a
request for a secret's value (``GET /secrets/NAME[/VERSION]``) finds no answer and fails the test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import responses
from requests import PreparedRequest

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="{resource}"'
FORBIDDEN = {
    "error": {
        "code": "Forbidden",
        "message": "Caller is not authorized to perform action on resource. Action: "
        "'Microsoft.KeyVault/vaults/secrets/readMetadata/action'",
        "innererror": {"code": "ForbiddenByRbac"},
    }
}


@dataclass
class Version:
    id: str
    created: datetime
    updated: datetime | None = None
    enabled: bool = True


@dataclass
class FakeKeyVault:
    """One vault (``https://NAME.vault.azure.net``): secrets by name, each a list of versions."""

    name: str
    suffix: str = "vault.azure.net"
    secrets: dict[str, list[Version]] = field(default_factory=dict)
    forbidden: bool = False
    resource: str = "https://vault.azure.net"  # what the challenge names (the token's audience)
    paths: list[str] = field(default_factory=list)  # every request's path, challenge included

    @property
    def url(self) -> str:
        return f"https://{self.name}.{self.suffix}"

    def add(self, secret: str, created: datetime, *, updated: datetime | None = None, enabled: bool = True) -> str:
        """A new version of ``secret``; returns its version id (32 hex digits, as Key Vault's)."""
        versions = self.secrets.setdefault(secret, [])
        version = f"{len(versions) + 1:032x}"
        versions.append(Version(version, created, updated, enabled))
        return version

    def register(self, mock: responses.RequestsMock) -> None:
        pattern = re.compile(re.escape(self.url) + r"/secrets/[0-9A-Za-z-]+/versions(\?.*)?$")
        mock.add_callback(responses.GET, pattern, callback=self._answer)

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        path = urlsplit(str(request.url)).path
        self.paths.append(path)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            challenge = CHALLENGE.format(tenant=TENANT, resource=self.resource)
            return 401, {"WWW-Authenticate": challenge}, json.dumps({"error": {"code": "Unauthorized"}})
        if self.forbidden:
            return 403, {"Content-Type": "application/json"}, json.dumps(FORBIDDEN)
        name = path.split("/")[2]
        if name not in self.secrets:
            body = {"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) {name} was not found"}}
            return 404, {"Content-Type": "application/json"}, json.dumps(body)
        value: list[dict[str, Any]] = [
            {
                "id": f"{self.url}/secrets/{name}/{v.id}",
                "attributes": {
                    "enabled": v.enabled,
                    "created": int(v.created.timestamp()),
                    "updated": int((v.updated or v.created).timestamp()),
                    "recoveryLevel": "Recoverable+Purgeable",
                    "recoverableDays": 90,
                },
                "tags": {},
            }
            for v in self.secrets[name]
        ]
        return 200, {"Content-Type": "application/json"}, json.dumps({"value": value, "nextLink": None})
