"""What the summary reads (one step per report) and what it reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Half(StrEnum):
    DEPLOY = "deploy"
    RELEASE = "release"


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    DONE = "done"  # the report says nothing about success (written only when the command completed)
    SKIPPED = "skipped"


class Step(BaseModel):
    """One step of the job: from its report, or only from the workflow's outcome when it left none."""

    model_config = ConfigDict(frozen=True)

    half: Half
    key: str = Field(description="Stable id: preflight, migrate, deploy-api, health-web, release-build, ...")
    label: str = Field(description="What the table and the chart call it.")
    section: str
    order: int = Field(description="Its place in the runbook, for steps that started at the same instant.")
    verdict: Verdict
    detail: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    url: str | None = Field(None, description="The step's own evidence, else the run.")
    source: str | None = Field(None, description="The report file it was read from.")

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


class Skipped(BaseModel):
    """A file in the reports folder that is not a report the summary can read, and why."""

    model_config = ConfigDict(frozen=True)

    file: str
    reason: str


class SummaryReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    half: Half
    passed: bool = Field(description="No step failed.")
    run_url: str | None = None
    steps: list[Step]
    skipped: list[Skipped] = Field(default_factory=list)
