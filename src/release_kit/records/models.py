"""The deployment record's models: what ``record`` writes, what ``last-good`` finds, what was read.

``Record`` validates user input on construction (``Record.build`` turns a bad value into an
:class:`~release_kit.errors.InputError` naming its flag); ``_Deployment`` and ``_Status`` type only
the fields of GitHub's answers that are read.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from release_kit.errors import ExitCode, InputError, ReleaseKitError
from release_kit.records.payload import CHECK_RE, REF_RE, ROLE_RE, SNAPSHOT_RE, TASK, Payload, image_problem

ENVIRONMENT_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,255}\Z")

FLAGS = {
    "environment": "--environment",
    "state": "--state",
    "ref": "--ref",
    "images": "--image",
    "checks": "--check",
    "snapshot": "--snapshot",
    "rollback_of": "--rollback-of",
    "log_url": "the run's URL",
    "environment_url": "--environment-url",
    "record_id": "the record's id",
}

State = Literal["success", "failure"]
Progress = Callable[[str], None]


class Record(BaseModel):
    """What ``record`` writes: one deployment and its status. Validated on construction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str
    state: State
    ref: str
    images: dict[str, str]
    checks: dict[str, Literal["pass", "fail"]] = Field(default_factory=dict)
    snapshot: str | None = None
    rollback_of: int | None = Field(default=None, gt=0)
    log_url: str | None = None
    environment_url: str | None = None
    description: str | None = None
    record_id: str = Field(default_factory=lambda: secrets.token_hex(16), pattern=r"^[0-9a-f]{32}$")

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        value = value.strip()
        if not ENVIRONMENT_RE.match(value):
            raise ValueError("expected an environment name such as production")
        return value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if not REF_RE.match(value):
            raise ValueError("expected a tag or commit SHA such as v1.4.0")
        return value

    @field_validator("images")
    @classmethod
    def _images(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("expected at least one ROLE=REF image")
        for role, ref in value.items():
            if not ROLE_RE.match(role):
                raise ValueError(f"role {role!r}: expected lower-case letters, digits, '-' or '_' (e.g. api)")
            if problem := image_problem(ref):
                raise ValueError(f"{role}={ref}: {problem}")
        return value

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not CHECK_RE.match(name):
                raise ValueError(f"check {name!r}: expected letters, digits, spaces or ._/:()-")
        return value

    @field_validator("snapshot")
    @classmethod
    def _snapshot(cls, value: str | None) -> str | None:
        if value is not None and not SNAPSHOT_RE.match(value):
            raise ValueError(f"snapshot {value!r}: expected an identifier such as release-kit-v1-4-0-202612011230")
        return value

    @field_validator("log_url", "environment_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError(f"{value!r}: expected an http(s) URL")
        return value

    @classmethod
    def build(cls, **fields: Any) -> Record:
        """A record from user input: a value that does not fit is an :class:`InputError` naming its flag."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "record"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise InputError(f"{FLAGS.get(name, name)}: {message}") from None

    def payload(self) -> Payload:
        return Payload(
            images=self.images,
            checks=dict(self.checks),
            snapshot=self.snapshot,
            rollback_of=self.rollback_of,
            record_id=self.record_id,
        )


class RecordResult(BaseModel):
    """The record as written: the deployment and its status."""

    model_config = ConfigDict(frozen=True)

    repository: str
    deployment_id: int
    status_id: int
    environment: str
    state: State
    ref: str
    sha: str | None = None
    images: dict[str, str]
    checks: dict[str, str]
    snapshot: str | None = None
    rollback_of: int | None = None
    log_url: str | None = None
    environment_url: str | None = None
    deployment_url: str | None = None


class GoodRecord(BaseModel):
    """A release-kit record that succeeded, with every check passed: what a rollback redeploys."""

    model_config = ConfigDict(frozen=True)

    deployment_id: int
    environment: str
    ref: str
    sha: str | None = None
    images: dict[str, str]
    checks: dict[str, str]
    snapshot: str | None = None
    rollback_of: int | None = None
    created_at: datetime
    succeeded_at: datetime | None = None
    log_url: str | None = Field(None, description="The run that wrote it (its success status's log_url).")
    creator: str | None = Field(None, description="Who wrote it: the GitHub login that created the deployment.")


class Skipped(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment_id: int
    ref: str
    reason: str
    creator: str | None = None
    log_url: str | None = None


class LastGoodSearch(BaseModel):
    """The answer (or none) and what was read to find it."""

    repository: str
    environment: str
    to_ref: str | None = None
    found: GoodRecord | None = None
    newest: GoodRecord | None = None  # the newest release-kit record (its state aside): what runs now
    deployments_read: int = 0
    records_read: int = 0  # of those, written by release-kit
    statuses_read: int = 0  # deployments whose statuses were fetched
    skipped: list[Skipped] = Field(default_factory=list)

    def summary(self) -> str:
        what = f"newest good record of {self.to_ref}" if self.to_ref else "last good record"
        return (
            f"{what} in environment {self.environment!r} of {self.repository}: read {self.deployments_read} "
            f"deployment(s) with task {TASK}, {self.records_read} carrying release-kit's payload, "
            f"statuses of {self.statuses_read}"
        )


class NoGoodRecord(ReleaseKitError):
    """The search found nothing to roll back to."""

    exit_code = ExitCode.NOT_OK


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    login: str = ""


class _Deployment(BaseModel):
    """A GitHub deployment as read: only what is used is typed; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    ref: str = ""
    sha: str | None = None
    task: str | None = None
    environment: str | None = None
    payload: Any = None
    created_at: datetime
    creator: _User | None = None


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    state: str
    created_at: datetime
    log_url: str | None = None
