"""When a Container App's Key Vault secret last changed, from the secret's properties (never its value).

Only ``list_properties_of_secret_versions`` is called: it lists ids and attributes (enabled, created,
updated), never a value, and needs only ``Microsoft.KeyVault/vaults/secrets/readMetadata/action``
(the built-in Key Vault Reader role). The credential goes only to a Key Vault host of a known cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from release_kit.clouds.arm import Arm
from release_kit.errors import RemoteError

KEY_VAULT_READER = "Key Vault Reader"
VAULT_SUFFIXES = (".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net")
_VAULT_NAME = re.compile(r"^[a-z0-9-]{3,24}$", re.IGNORECASE)
_SECRET_NAME = re.compile(r"^[0-9a-z-]{1,127}$", re.IGNORECASE)
_VERSION = re.compile(r"^[0-9a-f]{32}$", re.IGNORECASE)


@dataclass(frozen=True)
class SecretUrl:
    vault_url: str  # https://NAME.vault.azure.net
    vault: str  # NAME
    name: str
    version: str | None  # pinned version, or None: the newest


class NotAVault(ValueError):
    """A keyVaultUrl that is not a secret in a Key Vault of a known cloud: never contacted."""


def parse_secret_url(url: str) -> SecretUrl:
    """``https://NAME.vault.azure.net/secrets/SECRET[/VERSION]`` (or a sovereign cloud's vault suffix)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise NotAVault("its keyVaultUrl is not a URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443):
        raise NotAVault("its keyVaultUrl is not a plain https:// Key Vault URL, so it was not contacted")
    suffix = next((s for s in VAULT_SUFFIXES if host.endswith(s)), None)
    vault = host.removesuffix(suffix) if suffix else ""
    if suffix is None or not _VAULT_NAME.match(vault):
        raise NotAVault(
            f"its keyVaultUrl's host {host[:100]!r} is not a Key Vault ({', '.join('*' + s for s in VAULT_SUFFIXES)}),"
            " so it was not contacted"
        )
    segments = [s for s in parts.path.split("/") if s]
    if (
        len(segments) not in (2, 3)
        or segments[0] != "secrets"
        or not _SECRET_NAME.match(segments[1])
        or (len(segments) == 3 and not _VERSION.match(segments[2]))
        or parts.query
        or parts.fragment
    ):
        raise NotAVault("its keyVaultUrl is not /secrets/NAME or /secrets/NAME/VERSION, so it was not contacted")
    return SecretUrl(
        vault_url=f"https://{host}",
        vault=vault,
        name=segments[1],
        version=segments[2].lower() if len(segments) == 3 else None,
    )


def _when(props: Any) -> datetime | None:
    changed = props.updated_on or props.created_on
    return changed if isinstance(changed, datetime) else None


def last_changed(arm: Arm, secret: SecretUrl) -> tuple[datetime | None, str | None]:
    """When the value the app reads last changed, or None and why not.

    Unversioned: the newest enabled version's ``updated`` (else ``created``) time. Pinned: that
    version's. One listing call (counted in the report's ``calls``).
    """
    client = arm.secrets(secret.vault_url)

    def listing() -> list[Any]:
        try:
            return list(client.list_properties_of_secret_versions(secret.name))
        except ValueError:  # the challenge policy refuses a challenge naming another domain
            raise RemoteError(
                f"Key Vault {secret.vault} asked for a token for another domain: none was sent",
                hint="check the app's keyVaultUrl and any proxy in between",
            ) from None

    versions = arm.call(
        f"list the versions of Key Vault secret {secret.name} in vault {secret.vault} (properties only)",
        KEY_VAULT_READER,
        listing,
        missing_ok=True,
        where=f"on Key Vault {secret.vault} (or, for a vault on access policies, the List secret permission)",
    )
    if not versions:
        return None, f"Key Vault {secret.vault} has no secret {secret.name}"
    if secret.version is not None:
        pinned = [v for v in versions if str(v.version or "").lower() == secret.version]
        if not pinned:
            return None, f"Key Vault {secret.vault} has no version {secret.version} of {secret.name}"
        return _when(pinned[0]), None
    enabled = [v for v in versions if v.enabled is not False and v.created_on is not None]
    if not enabled:
        return None, f"Key Vault secret {secret.name} in vault {secret.vault} has no enabled version"
    newest = max(enabled, key=lambda v: v.created_on)
    return _when(newest), None
