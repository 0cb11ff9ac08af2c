"""preflight end to end: settings and flags, facts from the platform, checks, then report, summary and outputs."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from release_kit import gha
from release_kit.deploy.checks import SEVERITY, Check, Verdict, judge, looks_like_credential
from release_kit.deploy.facts import Facts
from release_kit.deploy.settings import DeploySettings, Platform, Role, parse_role_pairs
from release_kit.deploy.target import settings_from_flags
from release_kit.errors import ExitCode, InputError
from release_kit.reporting import emit, md_escape, table, write_report

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.WARN: "⚠️", Verdict.UNKNOWN: "❔"}


class PreflightReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    passed: bool
    checks: list[Check]
    calls: int  # cloud API requests made


def mask_literals(settings: DeploySettings, facts: Facts) -> None:
    """Credential-like literal values exist from here on: mask them before anything prints."""
    for service in facts.services.values():
        for name, value in service.container.env.items():
            if name in settings.secret_refs or looks_like_credential(name, value):
                gha.mask(value)


def collect(
    settings: DeploySettings,
    *,
    task_definitions: dict[Role, str],
    app_files: dict[Role, str],
    arm_endpoint: str | None = None,
    credential: Any = None,
    workers: int | None = None,
) -> tuple[Facts, int]:
    """The facts for the configured platform, and the number of cloud requests made."""
    platform = settings.require_platform()
    extra = {"workers": workers} if workers else {}
    if platform is Platform.ECS:
        if app_files:
            raise InputError("--app-file is for container-apps; on ecs use --task-definition ROLE=FILE|ARN")
        from release_kit.clouds.aws import Aws
        from release_kit.deploy import ecs

        needs_cloud = bool(settings.cluster) or any(v.startswith("arn:") for v in task_definitions.values())
        aws = Aws(settings.aws_region()) if needs_cloud else None
        where = f"cluster {settings.cluster} in {aws.region}" if aws and settings.cluster else "the files given"
        with gha.group(f"preflight: reading ECS services, task definitions, secrets' metadata and backups ({where})"):
            facts = ecs.gather(settings, task_definitions, aws=aws, **extra)
        return facts, aws.calls if aws else 0
    if task_definitions:
        raise InputError("--task-definition is for ecs; on container-apps use --app-file ROLE=FILE")
    from release_kit.clouds.arm import Arm
    from release_kit.deploy import container_apps

    arm = (
        Arm(settings.azure_subscription(), credential=credential, endpoint=arm_endpoint)
        if settings.resource_group
        else None
    )
    where = f"resource group {settings.resource_group}" if arm else "the files given"
    with gha.group(f"preflight: reading Container Apps, their secrets' definitions and backups ({where})"):
        facts = container_apps.gather(settings, app_files, arm=arm, **extra)
    return facts, arm.calls if arm else 0


def run(
    *,
    config_path: Path | None,
    platform: str | None,
    cluster: str | None,
    resource_group: str | None,
    services: tuple[str, ...],
    region: str | None = None,
    subscription: str | None = None,
    containers: tuple[str, ...] = (),
    task_definitions: tuple[str, ...],
    app_files: tuple[str, ...],
    allow_unknown: bool,
    arm_endpoint: str | None,
    report_path: Path | None,
    fmt: str,
    credential: Any = None,
    now: Callable[[], datetime] | None = None,
) -> ExitCode:
    settings = settings_from_flags(
        config_path,
        platform=platform,
        region=region,
        cluster=cluster,
        subscription=subscription,
        resource_group=resource_group,
        services=services,
        containers=containers,
    )
    facts, calls = collect(
        settings,
        task_definitions=parse_role_pairs(task_definitions, "--task-definition"),
        app_files=parse_role_pairs(app_files, "--app-file"),
        arm_endpoint=arm_endpoint,
        credential=credential,
    )
    mask_literals(settings, facts)
    rows = judge(settings, facts, (now or (lambda: datetime.now(UTC)))())
    report = build_report(facts.platform, rows, calls, allow_unknown=allow_unknown)
    return publish(report, report_path, fmt, allow_unknown=allow_unknown)


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
