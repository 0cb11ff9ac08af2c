"""Where migrate, deploy and rollback verdicts go: JSON report, text table, step summary, annotations, outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from release_kit import gha
from release_kit.errors import ExitCode
from release_kit.reporting import emit, md_escape, table, write_report
from release_kit.rollout.models import DeployReport, MigrationReport, RollbackReport, Verdict

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.WAIT: "⏳", Verdict.SKIPPED: "⏭️"}


def _short(ref: str | None) -> str:
    if not ref:
        return "-"
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref  # an ARN's resource name


def _digest(image: str) -> str:
    name, _, digest = image.partition("@")
    return f"{name.rsplit('/', 1)[-1]}@{digest[:19]}" if digest else image


def deploy_headline(report: DeployReport) -> str:
    if report.passed:
        return f"deploy on {report.platform}: every role passed ({', '.join(r.role for r in report.roles)})"
    failed = next(r for r in report.roles if r.verdict is Verdict.FAIL)
    return f"deploy on {report.platform}: FAILED at {failed.role}; later roles were not deployed"


def deploy_text(report: DeployReport) -> str:
    rows = [
        [
            r.role,
            r.service,
            r.verdict.value.upper(),
            f"{r.seconds:.0f}s",
            _digest(r.image),
            _short(r.previous),
            _short(r.new),
            r.reason,
        ]
        for r in report.roles
    ]
    text = (
        deploy_headline(report)
        + "\n\n"
        + table(["ROLE", "SERVICE", "VERDICT", "TIME", "IMAGE", "PREVIOUS", "NEW", "REASON"], rows)
    )
    if report.not_deployed:
        text += "\n\nnot deployed (no such role here): " + ", ".join(report.not_deployed)
    return text


def deploy_markdown(report: DeployReport) -> str:
    lines = [
        "### release-kit deploy",
        "",
        f"**{md_escape(deploy_headline(report))}**",
        "",
        "| Role | Service | Verdict | Image | Previous | New | Reason | Seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report.roles:
        lines.append(
            f"| {r.role} | {md_escape(r.service)} | {ICONS[r.verdict]} {r.verdict.value} | `{md_escape(r.image)}` "
            f"| {md_escape(_short(r.previous))} | {md_escape(_short(r.new))} "
            f"| {md_escape(r.reason)} | {r.seconds:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _default_path(name: str) -> Path | None:
    if gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        return Path(os.environ["RUNNER_TEMP"]) / "release-kit" / name
    return None


def publish_deploy(report: DeployReport, report_path: Path | None, fmt: str) -> ExitCode:
    report_path = report_path or _default_path("deploy.json")
    if report_path is not None:
        write_report(report, report_path)
    emit(report, deploy_text(report), fmt)
    gha.add_summary(deploy_markdown(report))
    for r in report.roles if gha.in_actions() else []:
        if r.verdict is Verdict.FAIL:
            gha.error(r.reason, title=f"deploy {r.role} ({r.service}) failed")
    gha.set_outputs(
        {
            "passed": "true" if report.passed else "false",
            "report": str(report_path or ""),
            "images": json.dumps(report.deployed_images, sort_keys=True),
        }
    )
    return ExitCode.OK if report.passed else ExitCode.NOT_OK


def migration_text(report: MigrationReport) -> str:
    state = "passed" if report.passed else "FAILED"
    lines = [
        f"migrate on {report.platform}: {state}: {report.reason}",
        f"command:  {' '.join(report.command)}",
    ]
    for label, value in (
        ("image", report.image),
        ("task def", _short(report.task_definition) if report.task_definition else None),
        ("task", report.task),
        ("exit code", None if report.exit_code is None else str(report.exit_code)),
        ("logs", report.log_url),
        ("snapshot", report.snapshot),
    ):
        if value:
            lines.append(f"{label + ':':<10}{value}")
    return "\n".join(lines)


def migration_markdown(report: MigrationReport) -> str:
    icon = ICONS[Verdict.PASS if report.passed else Verdict.FAIL]
    logs = f" — [logs]({report.log_url})" if report.log_url else ""
    lines = [
        "### release-kit migrate",
        "",
        f"{icon} **{md_escape(report.reason)}**{logs}",
        "",
        f"- command: `{md_escape(' '.join(report.command))}`",
    ]
    if report.image:
        lines.append(f"- image: `{md_escape(report.image)}`")
    if report.snapshot:
        lines.append(f"- snapshot taken first: `{md_escape(report.snapshot)}`")
    return "\n".join(lines) + "\n"


def publish_migration(report: MigrationReport, report_path: Path | None, fmt: str) -> ExitCode:
    report_path = report_path or _default_path("migrate.json")
    if report_path is not None:
        write_report(report, report_path)
    emit(report, migration_text(report), fmt)
    gha.add_summary(migration_markdown(report))
    if gha.in_actions() and not report.passed:
        gha.error(report.reason + (f" ({report.log_url})" if report.log_url else ""), title="migration failed")
    gha.set_outputs(
        {
            "passed": "true" if report.passed else "false",
            "report": str(report_path or ""),
            "snapshot": report.snapshot or "",
        }
    )
    return ExitCode.OK if report.passed else ExitCode.NOT_OK


# -- rollback ------------------------------------------------------------------------------


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


def _written_by(report: RollbackReport) -> str:
    good = report.good
    return f"good record written by: {good.creator or 'unknown'}, run: {good.log_url or 'none recorded'}"


def _provenance_skips(report: RollbackReport) -> list[str]:
    """The records passed over because their images are not ours or do not exist (the rest is routine)."""
    return [
        f"{s.deployment_id} {s.ref} (by {s.creator or 'unknown'}): {s.reason}"
        for s in report.skipped
        if s.reason.startswith("not our images") or " does not exist in " in s.reason
    ][:20]


def rollback_text(report: RollbackReport) -> str:
    db = report.database
    skips = _provenance_skips(report)
    lines = [
        headline(report),
        _rolled_back(report),
        _written_by(report),
        *(["skipped (not deployable):", *(f"  {line}" for line in skips)] if skips else []),
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
        md_escape(_written_by(report)),
        "",
        *(f"- Skipped: {md_escape(line)}" for line in _provenance_skips(report)),
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
