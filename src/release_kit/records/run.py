"""``release-kit record`` and ``release-kit last-good``: inputs checked, GitHub called, the answer reported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from release_kit import gha
from release_kit.errors import ExitCode, InputError
from release_kit.github.client import GitHubClient, parse_repo
from release_kit.records import report as render
from release_kit.records.deployments import Record, require_last_good, run_url, search_last_good, write_record
from release_kit.records.inputs import default_ref, images_from_report, parse_checks, parse_images
from release_kit.records.payload import REF_RE
from release_kit.reporting import JsonReport, emit, write_report

if TYPE_CHECKING:
    from release_kit.records.provenance import Allowed


def _report_path(report_path: Path | None, name: str) -> Path | None:
    if report_path is None and gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        return Path(os.environ["RUNNER_TEMP"]) / "release-kit" / f"{name}.json"
    return report_path


def _environment(value: str | None) -> str:
    if not value or not value.strip():
        raise InputError("--environment is required: expected the GitHub environment name, e.g. production")
    return value.strip()


def _publish(result: JsonReport, text: str, markdown: str, report_path: Path | None, fmt: str) -> None:
    if report_path is not None:
        write_report(result, report_path)
    emit(result, text, fmt)
    gha.add_summary(markdown)


def record(
    *,
    repo: str | None,
    environment: str | None,
    state: str | None,
    images: list[str],
    images_from: Path | None,
    checks: list[str],
    snapshot: str | None,
    ref: str | None,
    rollback_of: int | None,
    environment_url: str | None,
    report_path: Path | None,
    fmt: str,
    description: str | None = None,
    client: GitHubClient | None = None,
) -> ExitCode:
    """Write the record; exit 0 once it is written, whatever state it records."""
    name = parse_repo(repo)
    env_name = _environment(environment)
    if state not in ("success", "failure"):
        given = f" {state!r}" if state else " is required"
        raise InputError(f"--state{given}: expected success or failure")
    if images and images_from:
        raise InputError("--image and --images-from: give one of them, not both")
    pinned = images_from_report(images_from) if images_from else parse_images(images)
    if not pinned:
        raise InputError("--image ROLE=REF or --images-from PUBLISH_REPORT is required: the images deployed")
    ref = ref or default_ref()
    if not ref:
        raise InputError(
            "--ref is required: expected the tag or commit SHA deployed (or run for a tag, or set GITHUB_SHA)"
        )
    entry = Record.build(
        environment=env_name,
        state=state,
        ref=ref,
        images=pinned,
        checks=parse_checks(checks),
        snapshot=snapshot or None,
        rollback_of=rollback_of,
        log_url=run_url(),
        environment_url=environment_url or None,
        description=description,
    )
    gh = client or GitHubClient()
    try:
        result = write_record(gh, name, entry)
    finally:
        if client is None:
            gh.close()
    report_path = _report_path(report_path, "record")
    _publish(result, render.record_text(result), render.record_markdown(result), report_path, fmt)
    gha.set_outputs({"deployment-id": str(result.deployment_id), "report": str(report_path or "")})
    return ExitCode.OK


def last_good(
    *,
    repo: str | None,
    environment: str | None,
    to_ref: str | None,
    report_path: Path | None,
    fmt: str,
    client: GitHubClient | None = None,
    config_path: Path | None = None,
    **flags: Any,
) -> ExitCode:
    """Print the last good record; exit 1 (naming what was searched) when there is none.

    Records whose images are not from the allowed repositories are skipped, with the reason.
    """
    name = parse_repo(repo)
    env_name = _environment(environment)
    if to_ref and not REF_RE.match(to_ref):
        raise InputError(f"--to {to_ref!r}: expected a tag or commit SHA such as v1.4.0")
    allowed = _allowed(config_path, flags)
    _progress(
        "allowed image repositories: " + ", ".join(f"{role}={repo}" for role, repo in allowed.repositories.items())
    )
    gh = client or GitHubClient()
    try:
        search = search_last_good(gh, name, env_name, to_ref or None, progress=_progress, foreign=allowed.problem)
    finally:
        if client is None:
            gh.close()
    report_path = _report_path(report_path, "last-good")
    _publish(search, render.last_good_text(search), render.last_good_markdown(search), report_path, fmt)
    gha.set_outputs({**render.last_good_outputs(search), "report": str(report_path or "")})
    if search.found is None and fmt != "json":
        return ExitCode.NOT_OK  # the text above says "no last good record ..." once; no error line repeats it
    require_last_good(search)  # JSON on stdout: the one human line is the error's
    return ExitCode.OK


def _progress(line: str) -> None:
    click.echo(gha.redact(f"release-kit: {line}"), err=True)


def _allowed(config_path: Path | None, flags: dict[str, Any]) -> Allowed:
    """The allowed repositories: ``deploy.images``, else (for each role of ``deploy.services``) the
    repository of the image the service runs now, read through the platform."""
    from release_kit.records.provenance import allowed_repositories, current_image_reader, deployed_roles
    from release_kit.target.resolve import settings_from_flags

    where = {k: flags.get(k) for k in ("platform", "region", "cluster", "subscription", "resource_group")}
    settings = settings_from_flags(
        config_path,
        **where,
        services=tuple(flags.get("services") or ()),
        containers=tuple(flags.get("containers") or ()),
    )
    roles = deployed_roles(settings)
    if not settings.images and not roles:
        raise InputError(
            "last-good needs the image repositories records may name: set deploy.images (e.g. {api: "
            "ghcr.io/acme/app/api, web: ghcr.io/acme/app/web}) in .github/release-kit.yml, or deploy.platform and "
            "deploy.services to allow what each service runs now",
            hint="a deployment record is a hint, never proof: its images are only trusted from these repositories",
        )
    reader = None
    if any(role not in settings.images for role in roles):
        from release_kit.http import SystemClock
        from release_kit.platforms import get

        engine, cloud = get(settings.require_platform()).engine(settings, clock=SystemClock(), interval=5.0)
        reader = current_image_reader(settings, engine, cloud)
    return allowed_repositories(settings, roles, reader)
