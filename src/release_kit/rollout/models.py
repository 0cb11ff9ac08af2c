"""Facts the rollout judges read (typed only as far as they are read) and the deploy/migrate reports."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from release_kit.records.models import GoodRecord, RecordResult, Skipped
from release_kit.rollout.restore import RestoreAdvice
from release_kit.target.settings import Role

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean(text: object, limit: int = 500) -> str:
    """Remote text made safe to print: one line, no control characters, bounded."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())[:limit]


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    WAIT = "wait"
    SKIPPED = "skipped"


class Facts(BaseModel):
    """A remote answer: camelCase keys, unknown fields ignored, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


# -- what a judge decides ---------------------------------------------------------------


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reason: str


# -- reports ------------------------------------------------------------------------


class RoleResult(BaseModel):
    role: Role
    service: str
    container: str | None = None
    image: str
    previous_image: str | None = None
    previous_images: dict[str, str] = Field(default_factory=dict, description="Container name to image, before.")
    previous: str | None = Field(None, description="Task definition ARN (ecs) or revision (container-apps) before.")
    new: str | None = Field(None, description="Task definition ARN or revision deployed.")
    deployment_id: str | None = None
    verdict: Verdict
    reason: str
    seconds: float = 0.0
    started_at: datetime | None = Field(None, description="UTC: this role's rollout began.")
    finished_at: datetime | None = Field(None, description="UTC: its verdict.")


class DeployReport(BaseModel):
    platform: str
    passed: bool
    roles: list[RoleResult]
    not_deployed: list[str] = Field(default_factory=list, description="Images of the publish report that are no role.")
    calls: int = 0

    @property
    def deployed_images(self) -> dict[str, str]:
        return {r.role: r.image for r in self.roles if r.verdict is Verdict.PASS}


class MigrationReport(BaseModel):
    platform: str
    passed: bool
    verdict: Verdict
    reason: str
    command: list[str]
    image: str | None = None
    task_definition: str | None = Field(None, description="ecs: the task definition the task ran.")
    task: str | None = Field(None, description="ECS task ARN or Container Apps job execution name.")
    exit_code: int | None = None
    log_url: str | None = None
    snapshot: str | None = Field(None, description="The snapshot taken first (--snapshot).")
    seconds: float = 0.0
    calls: int = 0


def waiting(reason: str) -> Finding:
    return Finding(verdict=Verdict.WAIT, reason=reason)


def failed(reason: str) -> Finding:
    return Finding(verdict=Verdict.FAIL, reason=reason)


def passed(reason: str) -> Finding:
    return Finding(verdict=Verdict.PASS, reason=reason)


# -- rollback --------------------------------------------------------------------------------


class RolledBack(BaseModel):
    """The newest release-kit record in the environment: the release being rolled back."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: int
    ref: str
    snapshot: str | None = None
    created_at: datetime


class RollbackReport(BaseModel):
    repository: str
    environment: str
    passed: bool = Field(description="The good images run on every role rolled back and the record was written.")
    good: GoodRecord = Field(description="The record redeployed.")
    rolled_back: RolledBack | None = Field(None, description="The newest record, the release being rolled back.")
    rollback_of: int | None = None
    deploy: DeployReport
    migration: str = "none: rollback never runs a migration"
    record: RecordResult | None = None
    record_error: str | None = Field(None, description="Why the record was not written, when it was not.")
    database: RestoreAdvice
    searched: str = Field(description="What the last-good search read.")
    skipped: list[Skipped] = Field(
        default_factory=list, description="Records passed over, and why (not our images, digests missing, ...)."
    )

    @property
    def deployment_id(self) -> int | None:
        return self.record.deployment_id if self.record else None
