"""Where deploy and migrate verdicts go: JSON report, text table, step summary, annotations, outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from release_kit import gha
from release_kit.deploy.rollout_judge import td_name
from release_kit.deploy.rollout_models import DeployReport, MigrationReport, Verdict
from release_kit.errors import ExitCode
from release_kit.reporting import emit, md_escape, table, write_report

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.WAIT: "⏳", Verdict.SKIPPED: "⏭️"}


def _short(ref: str | None) -> str:
    if not ref:
        return "-"
    return td_name(ref) if ref.startswith("arn:") else ref


def _digest(image: str) -> str:
    name, _, digest = image.partition("@")
    return f"{name.rsplit('/', 1)[-1]}@{digest[:19]}" if digest else image


def deploy_headline(report: DeployReport) -> str:
    if report.passed:
        return f"deploy on {report.platform.value}: every role passed ({', '.join(r.role for r in report.roles)})"
    failed = next(r for r in report.roles if r.verdict is Verdict.FAIL)
    return f"deploy on {report.platform.value}: FAILED at {failed.role}; later roles were not deployed"


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
        f"migrate on {report.platform.value}: {state}: {report.reason}",
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
