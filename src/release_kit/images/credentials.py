"""Who we are to each kind of registry. Every secret is masked the moment it is read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from release_kit import gha
from release_kit.errors import InputError
from release_kit.images.reference import Registry, RegistryKind

GHCR_PUSH_HINT = (
    "pushing to GHCR needs GITHUB_TOKEN with `permissions: packages: write`, or a PAT with write:packages "
    "in REGISTRY_PASSWORD (read:packages only pulls)"
)
DENIED_HINTS = {
    RegistryKind.GHCR: GHCR_PUSH_HINT,
    RegistryKind.ECR: "the AWS identity needs ecr:InitiateLayerUpload, ecr:UploadLayerPart, "
    "ecr:CompleteLayerUpload, ecr:PutImage and ecr:BatchCheckLayerAvailability on the repositories",
    RegistryKind.ACR: "the identity needs the AcrPush role on the registry",
    RegistryKind.GENERIC: "the credentials lack push permission on this repository",
}

# when a registry refuses a whole blob in one PUT: GHCR caps a request at 4 MiB, ECR wants >= 5 MiB chunks
CHUNK_SIZES = {RegistryKind.GHCR: 4 * 1024 * 1024, RegistryKind.ECR: 8 * 1024 * 1024}
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password, even in a debugger or traceback
        return f"Credentials(username={self.username!r}, password={'***' if self.password else None})"


def from_env(registry: Registry, env: Mapping[str, str] | None = None) -> Credentials:
    """REGISTRY_USERNAME / REGISTRY_PASSWORD, or for GHCR the workflow's GITHUB_TOKEN."""
    env = env if env is not None else os.environ
    user = env.get("REGISTRY_USERNAME") or None
    password = env.get("REGISTRY_PASSWORD") or None
    gha.mask(password)
    if bool(user) != bool(password):
        missing = "REGISTRY_PASSWORD" if user else "REGISTRY_USERNAME"
        raise InputError(f"{missing} is empty: set both REGISTRY_USERNAME and REGISTRY_PASSWORD, or neither")
    if user:
        return Credentials(user, password)
    if registry.kind is RegistryKind.GHCR:
        token = env.get("GITHUB_TOKEN") or None
        gha.mask(token)
        if not token:
            raise InputError(
                f"no credentials for ghcr.io: set REGISTRY_USERNAME and REGISTRY_PASSWORD ({GHCR_PUSH_HINT})"
            )
        return Credentials(env.get("GITHUB_ACTOR") or "x-access-token", token)
    if registry.kind is RegistryKind.ACR:
        if env.get("AZURE_CLIENT_ID"):
            raise InputError(
                "ACR with a service principal (AZURE_CLIENT_ID) is not supported yet: "
                "use the registry's admin user in REGISTRY_USERNAME / REGISTRY_PASSWORD"
            )
        raise InputError(
            f"no credentials for {registry.host}: set REGISTRY_USERNAME and REGISTRY_PASSWORD (admin user)"
        )
    return Credentials()
