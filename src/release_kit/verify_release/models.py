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


class ReleaseAttestation(BaseModel):
    """GitHub's own attestation of an immutable release (predicate https://in-toto.io/attestation/release/v0.1)."""

    status: str = Field(description="verified, unverified, unverifiable, missing or not-checked")
    commit: str | None = Field(None, description="the commit the tag points at, as the attestation names it")
    instance: str | None = None
    reasons: list[str] = Field(default_factory=list)


class VerifyReport(BaseModel):
    repository: str
    tag: str
    release_url: str | None
    passed: bool
    assets: list[AssetResult]
    immutable: bool | None = Field(None, description="the release's immutable field; None when there is no release")
    release_attestation: ReleaseAttestation | None = None
    trust: list[str] = Field(default_factory=list, description="which trusted roots were used, and how they were had")
    reasons: list[str] = Field(default_factory=list, description="release-wide failures (--require-immutable)")
