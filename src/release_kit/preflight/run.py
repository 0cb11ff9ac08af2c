"""preflight end to end: settings and flags, facts from the platform, checks, then report, summary and outputs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release_kit import gha
from release_kit.errors import ExitCode, InputError
from release_kit.platforms import ALL_PLATFORMS, get
from release_kit.preflight.checks import judge, looks_like_credential
from release_kit.preflight.facts import Facts
from release_kit.preflight.report import build_report, publish
from release_kit.target.resolve import settings_from_flags
from release_kit.target.settings import DeploySettings, Role, parse_role_pairs


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
    platform = get(settings.require_platform())
    given = {"--task-definition": task_definitions, "--app-file": app_files}
    for flag, pairs in given.items():
        if pairs and flag != platform.file_option:
            owners = [p.name for p in ALL_PLATFORMS.values() if p.file_option == flag]
            raise InputError(
                f"{flag} is for {', '.join(owners) or 'another platform'}; "
                f"on {platform.name} use {platform.file_option} {platform.file_metavar}"
            )
    files = given.get(platform.file_option, {})
    return platform.gather(settings, files, workers=workers, credential=credential, endpoint=arm_endpoint)


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
    check_access: bool = False,
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
    if check_access:
        where = get(settings.require_platform())
        rows, calls = where.check_access(settings, credential=credential, endpoint=arm_endpoint)
        report = build_report(where.name, rows, calls, allow_unknown=allow_unknown)
        return publish(report, report_path, fmt, allow_unknown=allow_unknown)
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
