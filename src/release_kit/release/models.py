"""What a release is made of: the planned assets."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field


class Role(StrEnum):
    WHEEL = "wheel"
    SDIST = "sdist"
    SBOM = "sbom"
    CHECKSUMS = "checksums"


class Asset(BaseModel):
    name: str = Field(description="The asset's file name, as it will appear on the release.")
    path: Path
    size: int
    sha256: str
    role: Role
    subject: str | None = Field(None, description="For an SBOM: the asset it describes.")


class PackageBuild(BaseModel):
    """How one package was built: in dependency order, at the tag's version, checked in its wheel."""

    package: str = Field(description="The package folder, as given to --package.")
    name: str = Field(description="The distribution name its wheel carries.")
    version: str = Field(description="The version read from the built wheel's METADATA (equal to the tag's).")
    versioning: str = Field(
        description="How the version is decided: static, setuptools_scm, hatch-vcs, uv-dynamic-versioning, "
        "pdm-backend scm, poetry-dynamic-versioning, or dynamic (the backend's own way, checked in the wheel)."
    )
    pretend: dict[str, str] = Field(
        default_factory=dict, description="The variables set for its build so the plugin builds at the tag."
    )
    files: list[str] = Field(default_factory=list, description="The wheel (and sdist) it built.")
    siblings: list[str] = Field(
        default_factory=list, description="Its dependencies met by wheels of this run (name==version), in its SBOM."
    )


class ReleasePlan(BaseModel):
    """Every asset the release will have, checked before anything changes."""

    repository: str | None
    tag: str
    version: str = Field(description="The version every package has, PEP 440 normalised.")
    prerelease: bool
    assets: list[Asset]
    builds: list[PackageBuild] = Field(
        default_factory=list, description="release build only: each package in the order it was built."
    )
