"""Where preflight's verdict goes: JSON report, text table, step summary, annotations, outputs."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from release_kit import gha
from release_kit.errors import ExitCode
from release_kit.preflight.models import SEVERITY, Check, Verdict
from release_kit.reporting import emit, md_escape, table, write_report

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.WARN: "⚠️", Verdict.UNKNOWN: "❔"}


class PreflightReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    passed: bool
    checks: list[Check]
    calls: int  # cloud API requests made


def build_report(platform: str, rows: list[Check], calls: int, *, allow_unknown: bool) -> PreflightReport:
    blocking = {Verdict.FAIL} if allow_unknown else {Verdict.FAIL, Verdict.UNKNOWN}
    ordered = sorted(rows, key=lambda r: SEVERITY[r.verdict])  # stable: failures first, then in check order
    return PreflightReport(
        platform=platform,
        passed=not any(r.verdict in blocking for r in rows),
        checks=ordered,
        calls=calls,
    )


def headline(report: PreflightReport) -> str:
    counts = {v: sum(1 for r in report.checks if r.verdict is v) for v in Verdict}
    parts = [f"{counts[v]} {v.value}" for v in (Verdict.FAIL, Verdict.UNKNOWN, Verdict.WARN, Verdict.PASS) if counts[v]]
    state = "ready to deploy" if report.passed else "NOT ready to deploy"
    return f"preflight ({report.platform}): {state}: {', '.join(parts) or 'no checks'}; {report.calls} cloud calls"


def text(report: PreflightReport) -> str:
    rows = [
        [r.check, r.subject, r.verdict.value.upper(), r.reason + (f" [fix: {r.fix}]" if r.fix else "")]
        for r in report.checks
    ]
    return headline(report) + "\n\n" + table(["CHECK", "SUBJECT", "VERDICT", "REASON"], rows)


def markdown(report: PreflightReport) -> str:
    lines = [
        "### release-kit preflight",
        "",
        f"**{md_escape(headline(report))}**",
        "",
        "| Check | Subject | Verdict | Reason | Fix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in report.checks:
        lines.append(
            f"| {md_escape(r.check)} | `{md_escape(r.subject)}` | {ICONS[r.verdict]} {r.verdict.value} "
            f"| {md_escape(r.reason)} | {md_escape(r.fix or '')} |"
        )
    return "\n".join(lines) + "\n"


def publish(report: PreflightReport, report_path: Path | None, fmt: str, *, allow_unknown: bool) -> ExitCode:
    if report_path is None and gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        report_path = Path(os.environ["RUNNER_TEMP"]) / "release-kit" / "preflight.json"
    if report_path is not None:
        write_report(report, report_path)
    emit(report, text(report), fmt)
    gha.add_summary(markdown(report))
    for r in report.checks if gha.in_actions() else []:  # the table already says it locally
        message = r.reason + (f" Fix: {r.fix}" if r.fix else "")
        title = f"preflight {r.check} {r.subject} ({r.verdict.value})"
        if r.verdict is Verdict.FAIL or (r.verdict is Verdict.UNKNOWN and not allow_unknown):
            gha.error(message, title=title)
        elif r.verdict in (Verdict.WARN, Verdict.UNKNOWN):
            gha.annotate("warning", message, title=title)
    gha.set_outputs({"passed": "true" if report.passed else "false", "report": str(report_path or "")})
    return ExitCode.OK if report.passed else ExitCode.NOT_OK
