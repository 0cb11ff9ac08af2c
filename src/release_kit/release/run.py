"""release build|plan|upload|publish: the flows behind the commands (decide, plan, act, report)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from release_kit.errors import ExitCode
from release_kit.release import report
from release_kit.release.plan import plan
from release_kit.release.record import decide

if TYPE_CHECKING:
    from release_kit.github.client import RepoName
    from release_kit.release.models import ReleasePlan


def build_command(
    *,
    repo: str | None,
    tag: str | None,
    packages: list[Path],
    frontend: Path | None,
    assets_dir: Path,
    sdist: bool,
    max_wheels: int | None,
    report_path: Path | None,
    fmt: str,
) -> ExitCode:
    from release_kit.release.build import build
    from release_kit.release.preflight import resolve_tag

    result = build(
        repository=repo,
        tag=resolve_tag(tag),
        packages=packages,
        frontend=frontend,
        assets_dir=assets_dir,
        sdist=sdist,
        max_wheels=max_wheels,
    )
    return report.publish(result, report_path, fmt)


def plan_command(
    *,
    repo: str | None,
    tag: str | None,
    packages: list[Path],
    frontend: Path | None,
    assets_dir: Path,
    report_path: Path | None,
    fmt: str,
) -> ExitCode:
    decided = decide(assets_dir, repository=repo, tag=tag, packages=packages, frontend=frontend)
    result = plan(
        repository=decided.repository,
        tag=decided.tag,
        packages=decided.packages,
        frontend=decided.frontend,
        assets_dir=assets_dir,
    )
    return report.publish(result, report_path, fmt)


def _plan_for(
    repo: str | None, tag: str | None, packages: list[Path], frontend: Path | None, assets_dir: Path
) -> tuple[RepoName, ReleasePlan]:
    from release_kit.github.client import parse_repo

    decided = decide(assets_dir, repository=repo, tag=tag, packages=packages, frontend=frontend)
    name = parse_repo(decided.repository)
    return name, plan(
        repository=name.full_name,
        tag=decided.tag,
        packages=decided.packages,
        frontend=decided.frontend,
        assets_dir=assets_dir,
    )


def upload_command(
    *,
    repo: str | None,
    tag: str | None,
    packages: list[Path],
    frontend: Path | None,
    assets_dir: Path,
    attest: bool,
    report_path: Path | None,
    fmt: str,
) -> ExitCode:
    from release_kit.github.client import GitHubClient
    from release_kit.release.transaction import upload

    name, planned = _plan_for(repo, tag, packages, frontend, assets_dir)
    with GitHubClient() as gh:
        return report.publish_release(upload(gh, name, planned, attest=attest), report_path, fmt)


def publish_command(
    *,
    repo: str | None,
    tag: str | None,
    packages: list[Path],
    frontend: Path | None,
    assets_dir: Path,
    signer_workflow: str | None,
    source_ref: str | None,
    oidc_issuer: str | None,
    allow_self_hosted: bool,
    require_attestations: bool,
    report_path: Path | None,
    fmt: str,
    custom_trusted_root: Path | None = None,
) -> ExitCode:
    from release_kit.attestations.identity import IdentityPolicy
    from release_kit.attestations.trust import Trust
    from release_kit.github.client import GitHubClient
    from release_kit.release.transaction import publish

    name, planned = _plan_for(repo, tag, packages, frontend, assets_dir)
    policy = IdentityPolicy.from_options(
        repository=name.full_name,
        tag=planned.tag,
        signer_workflow=signer_workflow,
        source_ref=source_ref,
        oidc_issuer=oidc_issuer,
        allow_self_hosted=allow_self_hosted,
    )
    with GitHubClient() as gh:
        trust = Trust(custom=custom_trusted_root)
        result = publish(gh, name, planned, require_attestations=require_attestations, policy=policy, trust=trust)
        return report.publish_release(result, report_path, fmt)
