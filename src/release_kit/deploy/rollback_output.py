"""Where a rollback's verdict goes: JSON report, text, step summary, annotations, outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from release_kit import gha
from release_kit.deploy.rollback import RollbackReport
from release_kit.deploy.rollout_models import Verdict
from release_kit.deploy.rollout_output import deploy_markdown, deploy_text
from release_kit.errors import ExitCode
from release_kit.reporting import emit, md_escape, table, write_report


def _when(report: RollbackReport) -> str:
    good = report.good
    return (good.succeeded_at or good.created_at).strftime("%Y-%m-%dT%H:%M:%SZ")


def headline(report: RollbackReport) -> str:
    target = f"{report.good.ref} (deployment {report.good.deployment_id}, good since {_when(report)})"
    if report.passed:
        return f"rolled {report.environment} back to {target}"
    if report.deploy.passed:
        return f"rolled the services of {report.environment} back to {target}, but the rollback was NOT recorded"
    return f"rollback of {report.environment} to {target} FAILED"


def _rolled_back(report: RollbackReport) -> str:
    if report.rolled_back is None:
        return "rolls back: nothing (the good record is the newest)"
    return f"rolls back: {report.rolled_back.ref} (deployment {report.rolled_back.deployment_id})"


def _record_line(report: RollbackReport) -> str:
    if report.record is not None:
        rec = report.record
        return f"recorded: deployment {rec.deployment_id}, state {rec.state}, rollback_of {rec.rollback_of or '-'}"
    return f"NOT recorded: {report.record_error}"


def rollback_text(report: RollbackReport) -> str:
    db = report.database
    lines = [
        headline(report),
        _rolled_back(report),
        "",
        table(["ROLE", "GOOD IMAGE"], [[role, ref] for role, ref in report.good.images.items()]),
        "",
        deploy_text(report.deploy),
        "",
        f"migration: {report.migration}",
        f"database: {db.schema_kept}",
    ]
    lines += [f"  {note}" for note in db.notes[:1]]
    if db.command_line:
        lines.append(f"  restore (not run): {db.command_line}")
    lines += [f"  {note}" for note in db.notes[1:]]
    lines += ["", _record_line(report)]
    return "\n".join(lines)


def rollback_markdown(report: RollbackReport) -> str:
    icon = "✅" if report.passed else "❌"
    db = report.database
    lines = [
        "### release-kit rollback",
        "",
        f"**{icon} {md_escape(headline(report))}**",
        "",
        md_escape(_rolled_back(report)),
        "",
        deploy_markdown(report.deploy).replace("### release-kit deploy\n", "").strip(),
        "",
        f"- Migration: {md_escape(report.migration)}",
        f"- Database: {md_escape(db.schema_kept)}",
        *(f"- {md_escape(note)}" for note in db.notes),
    ]
    if db.command_line:
        lines += ["", "Restore command (not run):", "", "```", db.command_line, "```"]
    lines += ["", f"- {md_escape(_record_line(report))}"]
    return "\n".join(lines) + "\n"


def publish_rollback(report: RollbackReport, report_path: Path | None, fmt: str) -> ExitCode:
    if report_path is None and gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        report_path = Path(os.environ["RUNNER_TEMP"]) / "release-kit" / "rollback.json"
    if report_path is not None:
        write_report(report, report_path)
    emit(report, rollback_text(report), fmt)
    gha.add_summary(rollback_markdown(report))
    for r in report.deploy.roles if gha.in_actions() else []:
        if r.verdict is Verdict.FAIL:
            gha.error(r.reason, title=f"rollback {r.role} ({r.service}) failed")
    gha.set_outputs(
        {
            "passed": "true" if report.passed else "false",
            "report": str(report_path or ""),
            "images": json.dumps(report.deploy.deployed_images, sort_keys=True),
            "deployment-id": str(report.deployment_id or ""),
        }
    )
    return ExitCode.OK if report.passed else ExitCode.NOT_OK
