"""Verdicts on attested assets, shared by verify-release and release publish."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Status(StrEnum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    UNVERIFIABLE = "unverifiable"
    MISSING = "missing"
    UNEXPECTED = "unexpected"


class AttestationResult(BaseModel):
    predicate_type: str | None
    status: str
    reasons: list[str] = Field(default_factory=list)
    instance: str | None = Field(
        None, description="public-good (transparency log entry) or github (GitHub's instance: signed timestamps only)"
    )
