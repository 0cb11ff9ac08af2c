"""What the user asks of each gate: the ``gates:`` section of ``.github/release-kit.yml``."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from release_kit.durations import parse_seconds

DEFAULT_EVENTS = ("push", "workflow_dispatch", "schedule")


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str | int | float):  # the same forms as --wait: 90s, 15m, 7d, seconds
        return timedelta(seconds=parse_seconds(value))
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckRunRequirement(Strict):
    name: str = Field(description="Check run name, as shown on the commit.")
    app_id: int | None = Field(None, description="Only accept check runs from this GitHub App id.")


class Gate(Strict):
    name: str = Field(description="Gate name shown in reports.")
    workflow: str | None = Field(
        None,
        description="Workflow name or file path (.github/workflows/x.yml); defaults to the gate name.",
    )
    events: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVENTS),
        description="Events whose runs count as evidence for the commit (tag pushes are push events).",
    )
    check_runs: list[CheckRunRequirement] = Field(
        default_factory=list,
        description="Extra check runs (e.g. third-party apps) that must succeed.",
    )
    accept: list[str] = Field(
        default_factory=lambda: ["success"],
        description="Conclusions that pass. Only success by default.",
    )
    schedule_max_age: Duration | None = Field(
        None,
        description="When set, the newest scheduled run on the default branch must be successful "
        "and younger than this (e.g. 7d).",
    )
    code_scanning_tool: str | None = Field(
        None, description="Fail on open code-scanning alerts from this tool (e.g. CodeQL, Trivy)."
    )
    severity_threshold: Severity = Field(
        Severity.HIGH, description="Alerts at or above this security severity fail the gate."
    )
    no_open_secret_alerts: bool = Field(False, description="Fail while any secret-scanning alert is open.")
    pull_request: bool = Field(
        False,
        description="Evidence comes from the pull requests associated with the commit "
        "(their head commit's runs), as for Dependency Review.",
    )
    allow_direct_push: bool = Field(
        False, description="With pull_request: accept a commit pushed without a pull request."
    )

    @property
    def workflow_ref(self) -> str:
        return self.workflow or self.name


class GatesPolicy(Strict):
    gates: list[Gate] = Field(description="Every gate that must be green before a release.")

    @model_validator(mode="after")
    def _unique(self) -> GatesPolicy:
        names = [g.name for g in self.gates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"gate names must be unique; repeated: {', '.join(dupes)}")
        if not self.gates:
            raise ValueError("at least one gate is required")
        return self


WEEK = timedelta(days=7)
PR_EVENTS = ["pull_request", "pull_request_target"]


def runbook_policy() -> GatesPolicy:
    """The built-in policy: the runbook's nine gates, by their workflow names."""
    ci = [Gate(name=n) for n in ("Backend CI", "Frontend CI", "Starter Console CI", "Contracts CI", "Providers CI")]
    return GatesPolicy(
        gates=[
            *ci,
            Gate(name="Dependency Review", events=PR_EVENTS, pull_request=True),
            Gate(
                name="CodeQL",
                events=[*DEFAULT_EVENTS, "dynamic"],
                schedule_max_age=WEEK,
                code_scanning_tool="CodeQL",
            ),
            Gate(name="Secrets Scan", schedule_max_age=WEEK, no_open_secret_alerts=True),
            Gate(name="build-images", code_scanning_tool="Trivy"),
        ]
    )
