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


class ReleasePlan(BaseModel):
    """Every asset the release will have, checked before anything changes."""

    repository: str | None
    tag: str
    version: str = Field(description="The version every package has, PEP 440 normalised.")
    prerelease: bool
    assets: list[Asset]
