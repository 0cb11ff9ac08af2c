"""What a lockfile says about a frontend: its third-party packages (frozen) and what was left out."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    """The lockfile formats read, by file name."""

    PNPM = "pnpm-lock.yaml"
    YARN = "yarn.lock"
    NPM = "package-lock.json"
    NPM_SHRINKWRAP = "npm-shrinkwrap.json"
    BUN = "bun.lock"


class Lockfile(BaseModel):
    """A lockfile found for a frontend: where it is and the repository it must stay inside."""

    model_config = ConfigDict(frozen=True)

    path: Path  # resolved, inside repo_root
    kind: Kind
    repo_root: Path  # resolved

    @property
    def folder(self) -> Path:
        """The workspace root (or the frontend itself) the lockfile belongs to."""
        return self.path.parent


class Hash(BaseModel):
    """One digest of the package's published archive, named as CycloneDX names algorithms."""

    model_config = ConfigDict(frozen=True)

    alg: str  # "SHA-512", "SHA-384", "SHA-256", "SHA-1"
    content: str  # lowercase hex


class Component(BaseModel):
    """One third-party package the frontend installs, listed once whatever the number of places
    it is installed at. ``dev`` when only development dependencies reach it, ``optional`` when
    only optional dependencies do (among the runtime paths)."""

    model_config = ConfigDict(frozen=True)

    name: str  # the npm name, with its scope: "@scope/name"
    version: str
    purl: str  # pkg:npm/%40scope/name@1.0.0
    hashes: tuple[Hash, ...] = ()
    dev: bool = False
    optional: bool = False

    @property
    def namespace(self) -> str | None:
        return self.name.partition("/")[0] if self.name.startswith("@") and "/" in self.name else None

    @property
    def short_name(self) -> str:
        return self.name.partition("/")[2] if self.namespace else self.name


class Excluded(BaseModel):
    """A package of the lockfile that is not a third-party component: a workspace package, or a
    local folder (``link:``, ``file:``, ``portal:``). Its own dependencies are still followed."""

    model_config = ConfigDict(frozen=True)

    name: str
    reason: str  # "workspace package packages/ui", "local folder vendor/lib (file:)"

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"


class Reading(BaseModel):
    """Everything read for one frontend from one lockfile."""

    model_config = ConfigDict(frozen=True)

    lockfile: Lockfile
    format: str  # "pnpm-lock.yaml 9.0", "yarn.lock v1", ...
    components: tuple[Component, ...]
    excluded: tuple[Excluded, ...]
