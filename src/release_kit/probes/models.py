"""Reports of health and smoke: what each endpoint, flow and step came to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    SKIPPED = "skipped"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class EndpointResult(Frozen):
    url: str
    verdict: Verdict
    attempts: int
    healthy_after_s: float | None
    last_status: int | None
    reason: str
    started_at: datetime | None = None  # UTC: polling began
    finished_at: datetime | None = None  # UTC: ready, or the verdict at the deadline


class HealthReport(Frozen):
    passed: bool
    endpoints: list[EndpointResult]


class StepResult(Frozen):
    name: str
    verdict: Verdict
    status: int | None
    elapsed_s: float
    reason: str
    excerpt: str | None = None  # a failing step: the start of the body (or the end of a stream), redacted, bounded
    evidence: list[str] = Field(default_factory=list)  # a passing step: what was proven (JWT verified, SSE events)
    always: bool = False  # a teardown step, run whatever came before
    started_at: datetime | None = None  # UTC
    finished_at: datetime | None = None  # UTC


class FlowResult(Frozen):
    name: str
    verdict: Verdict
    steps: list[StepResult]
    failed_at: str | None = None  # the first step that failed (a teardown's failure never hides it)


class SmokeReport(Frozen):
    passed: bool
    flows: list[FlowResult]
