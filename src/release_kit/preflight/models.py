"""A preflight row and its verdicts: what the checks, a platform's access check and the report share."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"


SEVERITY = {Verdict.FAIL: 0, Verdict.UNKNOWN: 1, Verdict.WARN: 2, Verdict.PASS: 3}


class Check(BaseModel):
    """One row of the report."""

    model_config = ConfigDict(frozen=True)

    check: str
    subject: str
    verdict: Verdict
    reason: str
    fix: str | None = None


__all__ = ["SEVERITY", "Check", "Verdict"]
