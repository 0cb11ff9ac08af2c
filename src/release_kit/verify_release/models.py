"""The verify-release report."""

from __future__ import annotations

from pydantic import BaseModel, Field

from release_kit.attestations.models import AttestationResult, Status


class AssetResult(BaseModel):
    name: str
    digest: str | None = Field(None, description="sha256:... of the downloaded bytes")
    state: str | None = None
    status: Status
    verified: bool
    attestations: list[AttestationResult] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class VerifyReport(BaseModel):
    repository: str
    tag: str
    release_url: str | None
    passed: bool
    assets: list[AssetResult]
