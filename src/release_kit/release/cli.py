"""``release-kit release build|plan|upload|publish`` options (click only: importing this costs nothing at start-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit.options import env, identity_options, repo_option, trusted_root_option, verdict_options

F = TypeVar("F", bound=Callable[..., Any])


class InOrder(click.Group):
    """Lists its commands in the order they were added (the order they run), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=InOrder)
def release() -> None:
    """Wheels, SBOMs, checksums and the GitHub Release for a v* tag: build, plan, upload, publish."""


def release_options(func: F) -> F:
    for option in reversed(
        [
            repo_option,
            click.option(
                "--tag",
                envvar=env("tag"),
                help="The v* tag. build: required unless $GITHUB_REF is a tag; plan, upload, publish: default, the "
                "tag release build recorded.",
            ),
            click.option(
                "--package",
                "packages",
                multiple=True,
                envvar=env("packages"),
                type=click.Path(file_okay=False, path_type=Path),
                help="A Python package folder (any PEP 517 backend; a version from git tags via setuptools_scm, "
                "hatch-vcs or uv-dynamic-versioning is built at the tag's). Repeatable, in any order: built in "
                "dependency order.",
            ),
            click.option(
                "--frontend",
                envvar=env("frontend"),
                type=click.Path(file_okay=False, path_type=Path),
                help="A JavaScript frontend folder (pnpm, yarn, npm or bun). Its lockfile is read from the folder or "
                "the nearest workspace root above it, never above the repository root.",
            ),
            click.option(
                "--assets-dir",
                envvar=env("assets-dir"),
                default=Path("release-assets"),
                show_default=True,
                type=click.Path(file_okay=False, path_type=Path),
                help="Where the assets are written.",
            ),
        ]
    ):
        func = option(func)
    return verdict_options(func)


@release.command("build")
@release_options
@click.option("--sdist", is_flag=True, envvar=env("sdist"), help="Also build source distributions.")
@click.option(
    "--max-wheels",
    type=click.IntRange(min=1),
    envvar=env("max-wheels"),
    help="Refuse, before building, to make more wheels than this (the release action attests up to 4).",
)
def release_build(
    repo: str | None,
    tag: str | None,
    packages: tuple[Path, ...],
    frontend: Path | None,
    assets_dir: Path,
    sdist: bool,
    max_wheels: int | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Build the wheels, an SBOM per wheel, the frontend SBOM and SHA256SUMS into --assets-dir.

    What it decided (tag, repository, packages, frontend) is recorded in
    <assets-dir>/release-kit-build.json, so plan, upload and publish need no flags again.
    """
    from release_kit.release.run import build_command

    return build_command(
        repo=repo,
        tag=tag,
        packages=list(packages),
        frontend=frontend,
        assets_dir=assets_dir,
        sdist=sdist,
        max_wheels=max_wheels,
        report_path=report_path,
        fmt=fmt,
    )


@release.command("plan")
@release_options
def release_plan(
    repo: str | None,
    tag: str | None,
    packages: tuple[Path, ...],
    frontend: Path | None,
    assets_dir: Path,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Show every asset the release will hold, checked against SHA256SUMS; changes nothing.

    Tag, repository, packages and frontend come from what release build recorded; flags given must agree.
    """
    from release_kit.release.run import plan_command

    return plan_command(
        repo=repo,
        tag=tag,
        packages=list(packages),
        frontend=frontend,
        assets_dir=assets_dir,
        report_path=report_path,
        fmt=fmt,
    )


@release.command("upload")
@release_options
@click.option(
    "--attest",
    is_flag=True,
    envvar=env("attest"),
    help="Attestations follow this step: check up front that the job can sign them.",
)
def release_upload(
    repo: str | None,
    tag: str | None,
    packages: tuple[Path, ...],
    frontend: Path | None,
    assets_dir: Path,
    attest: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Find or create the draft release and make it hold exactly the planned assets.

    Tag, repository, packages and frontend come from what release build recorded; flags given must agree.
    """
    from release_kit.release.run import upload_command

    return upload_command(
        repo=repo,
        tag=tag,
        packages=list(packages),
        frontend=frontend,
        assets_dir=assets_dir,
        attest=attest,
        report_path=report_path,
        fmt=fmt,
    )


@release.command("publish")
@release_options
@identity_options
@trusted_root_option
@click.option(
    "--require-attestations/--no-require-attestations",
    default=True,
    envvar=env("require-attestations"),
    show_default=True,
    help="Refuse to publish while an asset lacks a valid provenance attestation.",
)
def release_publish(
    repo: str | None,
    tag: str | None,
    packages: tuple[Path, ...],
    frontend: Path | None,
    assets_dir: Path,
    signer_workflow: str | None,
    source_ref: str | None,
    oidc_issuer: str | None,
    allow_self_hosted: bool,
    custom_trusted_root: Path | None,
    require_attestations: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Check the draft against the plan and the attestations, publish it, then check again.

    Tag, repository, packages and frontend come from what release build recorded; flags given must agree.
    """
    from release_kit.release.run import publish_command

    return publish_command(
        repo=repo,
        tag=tag,
        packages=list(packages),
        frontend=frontend,
        assets_dir=assets_dir,
        signer_workflow=signer_workflow,
        source_ref=source_ref,
        oidc_issuer=oidc_issuer,
        allow_self_hosted=allow_self_hosted,
        custom_trusted_root=custom_trusted_root,
        require_attestations=require_attestations,
        report_path=report_path,
        fmt=fmt,
    )
