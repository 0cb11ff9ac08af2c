"""Reports of health and smoke: what each endpoint, flow and step came to."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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


class HealthReport(Frozen):
    passed: bool
    endpoints: list[EndpointResult]


class StepResult(Frozen):
    name: str
    verdict: Verdict
    status: int | None
    elapsed_s: float
    reason: str


class FlowResult(Frozen):
    name: str
    verdict: Verdict
    steps: list[StepResult]


class SmokeReport(Frozen):
    passed: bool
    flows: list[FlowResult]
