"""What was found on GitHub (evidence) and what was decided (verdicts)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Api(BaseModel):
    """A GitHub REST object: unknown fields are ignored, the ones we read are typed."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Workflow(Api):
    id: int
    name: str
    path: str
    state: str = "active"
    html_url: str | None = None


class WorkflowRun(Api):
    id: int
    name: str | None = None
    workflow_id: int
    head_sha: str
    head_branch: str | None = None
    event: str
    status: str | None = None
    conclusion: str | None = None
    run_number: int = 0
    run_attempt: int = 1
    created_at: datetime
    run_started_at: datetime | None = None
    html_url: str | None = None
    head_repository: str | None = None

    @field_validator("head_repository", mode="before")
    @classmethod
    def _repo_name(cls, value: Any) -> Any:
        return value.get("full_name") if isinstance(value, dict) else value

    @property
    def started(self) -> datetime:
        return self.run_started_at or self.created_at

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.started, self.id)


class App(Api):
    id: int
    slug: str | None = None


class CheckRun(Api):
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None = None
    started_at: datetime | None = None
    html_url: str | None = None
    app: App | None = None

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.started_at or datetime.min.replace(tzinfo=UTC), self.id)


class AlertRule(Api):
    id: str | None = None
    severity: str | None = None
    security_severity_level: str | None = None


class CodeScanningAlert(Api):
    number: int
    state: str | None = None
    html_url: str | None = None
    rule: AlertRule = Field(default_factory=AlertRule)


class SecretScanningAlert(Api):
    number: int
    state: str
    html_url: str | None = None
    secret_type_display_name: str | None = None


class PullRequest(Api):
    number: int
    html_url: str | None = None
    head_sha: str
    merge_commit_sha: str | None = None
    merged_at: datetime | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullRequest:
        return cls.model_validate({**data, "head_sha": (data.get("head") or {}).get("sha", "")})


class Problem(BaseModel):
    """Evidence that could not be read: becomes an ``error`` (or ``missing``) verdict."""

    model_config = ConfigDict(frozen=True)

    reason: str
    fix: str | None = None
    missing: bool = False  # the evidence does not exist (rather than could not be read)


class Evidence(BaseModel):
    """Everything fetched for one commit; the judge reads only this."""

    model_config = ConfigDict(frozen=True)

    repository: str
    ref: str
    sha: str
    default_branch: str
    workflows: list[Workflow]
    runs: list[WorkflowRun]
    scheduled: dict[int, WorkflowRun | None] = Field(default_factory=dict)
    check_runs: list[CheckRun] | Problem | None = None
    code_alerts: dict[str, list[CodeScanningAlert] | Problem] = Field(default_factory=dict)
    secret_alerts: list[SecretScanningAlert] | Problem | None = None
    pulls: list[PullRequest] | None = None
    pull_runs: list[WorkflowRun] = Field(default_factory=list)


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    MISSING = "missing"
    PENDING = "pending"
    STALE = "stale"
    ERROR = "error"

    @property
    def weight(self) -> int:
        """How strongly this verdict decides a gate made of several checks."""
        return _WEIGHT[self]


_WEIGHT = {
    Verdict.PASS: 0,
    Verdict.PENDING: 1,
    Verdict.STALE: 2,
    Verdict.MISSING: 3,
    Verdict.FAIL: 4,
    Verdict.ERROR: 5,
}


class GateResult(BaseModel):
    name: str
    verdict: Verdict
    reason: str
    url: str | None = None
    fix: str | None = Field(None, description="For an error verdict: how to fix the configuration.")


class GatesReport(BaseModel):
    """The verify-gates report (``--report``, ``--format json``)."""

    repository: str
    ref: str
    sha: str
    policy: str = Field(
        description="Where the judged policy came from: the --config path, .github/release-kit.yml "
        "or 'built-in runbook policy'."
    )
    passed: bool
    gates: list[GateResult]
    requests: int = Field(description="GitHub API requests made for this check.")
