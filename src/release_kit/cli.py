"""The ``release-kit`` command line: the only place that turns errors into exit codes.

Capabilities are imported inside their commands, so ``release-kit --help`` starts fast
and never loads httpx, boto3, azure or cryptography.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit import __version__, gha
from release_kit.errors import ExitCode, ReleaseKitError
from release_kit.options import config_option, env, repo_option, verdict_options
from release_kit.params import DurationType

F = TypeVar("F", bound=Callable[..., Any])
INTERNAL_ERROR = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="release-kit")
def cli() -> None:
    """Enforced, evidenced release steps for GitHub Actions and laptops.

    Exit codes: 0 success; 1 what was verified is not OK; 2 usage, configuration,
    input or permission error; 3 a remote gave up after retries; 70 internal error
    (a bug: RELEASE_KIT_DEBUG=1 shows the traceback).
    """


@cli.command()
@click.argument("which", type=click.Choice(["config", "smoke"]), default="config")
def schema(which: str) -> None:
    """Print the JSON Schema of .github/release-kit.yml (config) or of the smoke spec (smoke)."""
    if which == "smoke":
        from release_kit.probes.smoke_spec import schema_text as smoke_schema

        click.echo(smoke_schema(), nl=False)
        return
    from release_kit.config import schema_text

    click.echo(schema_text(), nl=False)


@cli.command("verify-gates")
@repo_option
@click.option("--ref", envvar=env("ref"), help="Tag, branch or commit SHA. Default: $GITHUB_SHA.")
@config_option("Policy file. Default: .github/release-kit.yml if present, else the built-in runbook policy.")
@click.option(
    "--wait",
    type=DurationType(maximum=6 * 3600),
    default="0",
    envvar=env("wait"),
    show_default=True,
    help="Poll this long while a gate is pending: 90s, 15m, 1h or seconds.",
)
@verdict_options
def verify_gates(
    repo: str | None,
    ref: str | None,
    config_path: Path | None,
    wait: float,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Prove that every release gate is green for the exact commit of REF."""
    from release_kit.gates.command import run

    return run(repo=repo, ref=ref, config_path=config_path, wait=wait, report_path=report_path, fmt=fmt)


@cli.command("publish-images")
@click.option(
    "--registry",
    envvar=env("registry"),
    help="ghcr.io, <account>.dkr.ecr.<region>.amazonaws.com, <name>.azurecr.io or any host[:port].",
)
@click.option(
    "--image-prefix",
    envvar=env("image-prefix"),
    help="Path under the registry, e.g. my-org/agent-saas (upper case is lower-cased, with a notice).",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    envvar=env("images"),
    metavar="NAME=PATH",
    help="An image to push: an OCI layout folder, a tar of one, or a docker save archive. Repeatable.",
)
@click.option("--tag", "tags", multiple=True, envvar=env("tags"), help="A tag for every image. Repeatable.")
@click.option(
    "--tag-from-ref",
    is_flag=True,
    envvar=env("tag-from-ref"),
    help="Add 1.4.0, 1.4, 1 and latest from a v1.4.0 GITHUB_REF (no latest for a pre-release; any other "
    "tag is used itself, sanitised), and sha-<7> from GITHUB_SHA.",
)
@click.option(
    "--registry-endpoint",
    envvar=env("registry-endpoint"),
    help="Send the distribution API here instead of https://<registry> (a mirror or a local registry).",
)
@click.option(
    "--create-repositories/--no-create-repositories",
    default=True,
    envvar=env("create-repositories"),
    show_default=True,
    help="ECR: create missing repositories (scan on push).",
)
@click.option(
    "--lock-tags", is_flag=True, envvar=env("lock-tags"), help="ACR: make the pushed tags read-only after the push."
)
@verdict_options
def publish_images(
    registry: str | None,
    image_prefix: str | None,
    images: tuple[str, ...],
    tags: tuple[str, ...],
    tag_from_ref: bool,
    registry_endpoint: str | None,
    create_repositories: bool,
    lock_tags: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Push the images to GHCR, ECR or any OCI registry, daemonless; report their digests."""
    from release_kit.registry.command import run

    return run(
        registry=registry,
        image_prefix=image_prefix,
        images=list(images),
        tags=list(tags),
        tag_from_ref=tag_from_ref,
        registry_endpoint=registry_endpoint,
        create_repositories=create_repositories,
        lock_tags=lock_tags,
        report_path=report_path,
        fmt=fmt,
    )


def identity_options(func: F) -> F:
    """Who must have signed an attestation: shared by verify-release and release publish."""
    for option in reversed(
        [
            click.option(
                "--signer-workflow",
                envvar=env("signer-workflow"),
                metavar="[HOST/]OWNER/REPO/PATH",
                help="The workflow that must have signed (a reusable workflow may live elsewhere). "
                "Default: any workflow of --repo.",
            ),
            click.option(
                "--source-ref",
                envvar=env("source-ref"),
                metavar="REF|any",
                help="The ref the signing run built. Default: refs/tags/<tag>.",
            ),
            click.option(
                "--oidc-issuer", envvar=env("oidc-issuer"), help="Default: https://token.actions.githubusercontent.com."
            ),
            click.option(
                "--allow-self-hosted",
                is_flag=True,
                envvar=env("allow-self-hosted"),
                help="Accept attestations signed on self-hosted runners.",
            ),
        ]
    ):
        func = option(func)
    return func


@cli.command("verify-release")
@repo_option
@click.option("--tag", envvar=env("tag"), help="The release's tag. Default: from $GITHUB_REF.")
@click.option(
    "--expect",
    multiple=True,
    envvar=env("expect"),
    metavar="PATTERN",
    help="An asset the release must hold (glob). Replaces the defaults. Repeatable.",
)
@config_option("Config file with a release: expect list. Default: .github/release-kit.yml if present.")
@identity_options
@click.option("--allow-extra", is_flag=True, envvar=env("allow-extra"), help="Unexpected assets do not fail.")
@click.option(
    "--offline-bundles",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=env("offline-bundles"),
    help="Read <asset>.sigstore.json / .jsonl bundles from this folder instead of the API.",
)
@verdict_options
def verify_release(
    repo: str | None,
    tag: str | None,
    expect: tuple[str, ...],
    config_path: Path | None,
    signer_workflow: str | None,
    source_ref: str | None,
    oidc_issuer: str | None,
    allow_self_hosted: bool,
    allow_extra: bool,
    offline_bundles: Path | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Prove a published release holds every expected asset, with matching digests and valid attestations."""
    from release_kit.verify_release.command import run

    return run(
        repo=repo,
        tag=tag,
        expect=list(expect),
        config_path=config_path,
        signer_workflow=signer_workflow,
        source_ref=source_ref,
        oidc_issuer=oidc_issuer,
        allow_self_hosted=allow_self_hosted,
        allow_extra=allow_extra,
        offline_bundles=offline_bundles,
        report_path=report_path,
        fmt=fmt,
    )


@cli.group()
def release() -> None:
    """Wheels, SBOMs, checksums and the GitHub Release for a v* tag: build, plan, upload, publish."""


def release_options(func: F) -> F:
    for option in reversed(
        [
            repo_option,
            click.option("--tag", envvar=env("tag"), help="The v* tag. Default: from $GITHUB_REF."),
            click.option(
                "--package",
                "packages",
                multiple=True,
                envvar=env("packages"),
                type=click.Path(file_okay=False, path_type=Path),
                help="A Python package folder. Repeatable.",
            ),
            click.option(
                "--frontend",
                envvar=env("frontend"),
                type=click.Path(file_okay=False, path_type=Path),
                help="An npm frontend folder with package-lock.json.",
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
    from release_kit.release.build import build
    from release_kit.release.command import publish
    from release_kit.release.preflight import resolve_tag

    result = build(
        repository=repo,
        tag=resolve_tag(tag),
        packages=list(packages),
        frontend=frontend,
        assets_dir=assets_dir,
        sdist=sdist,
        max_wheels=max_wheels,
    )
    return publish(result, report_path, fmt)


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
    from release_kit.release.command import publish
    from release_kit.release.plan import plan
    from release_kit.release.record import decide

    decided = decide(assets_dir, repository=repo, tag=tag, packages=list(packages), frontend=frontend)
    result = plan(
        repository=decided.repository,
        tag=decided.tag,
        packages=decided.packages,
        frontend=decided.frontend,
        assets_dir=assets_dir,
    )
    return publish(result, report_path, fmt)


def _plan_for(
    repo: str | None, tag: str | None, packages: tuple[Path, ...], frontend: Path | None, assets_dir: Path
) -> tuple[Any, Any]:
    from release_kit.github.client import parse_repo
    from release_kit.release.plan import plan
    from release_kit.release.record import decide

    decided = decide(assets_dir, repository=repo, tag=tag, packages=list(packages), frontend=frontend)
    name = parse_repo(decided.repository)
    return name, plan(
        repository=name.full_name,
        tag=decided.tag,
        packages=decided.packages,
        frontend=decided.frontend,
        assets_dir=assets_dir,
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
    from release_kit.github.client import GitHubClient
    from release_kit.release.command import publish_release
    from release_kit.release.transaction import upload

    name, planned = _plan_for(repo, tag, packages, frontend, assets_dir)
    with GitHubClient() as gh:
        return publish_release(upload(gh, name, planned, attest=attest), report_path, fmt)


@release.command("publish")
@release_options
@identity_options
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
    require_attestations: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Check the draft against the plan and the attestations, publish it, then check again.

    Tag, repository, packages and frontend come from what release build recorded; flags given must agree.
    """
    from release_kit.attestations.identity import IdentityPolicy
    from release_kit.github.client import GitHubClient
    from release_kit.release.command import publish_release
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
        result = publish(gh, name, planned, require_attestations=require_attestations, policy=policy)
        return publish_release(result, report_path, fmt)


def _register() -> None:
    """Capabilities whose options live beside them (click only, so start-up stays fast)."""
    from release_kit.deploy.preflight_commands import preflight
    from release_kit.deploy.rollback_commands import rollback
    from release_kit.deploy.rollout_commands import deploy, migrate
    from release_kit.deploy_record.commands import last_good, record
    from release_kit.init.commands import init
    from release_kit.probes.commands import health, smoke

    for command in (preflight, migrate, deploy, health, smoke, record, last_good, rollback, init):
        cli.add_command(command)


_register()


def _fail(message: str, code: int) -> int:
    message = gha.printable(" ".join(gha.redact(message).split()))  # a remote's terminal escapes stay inert
    if gha.in_actions():
        gha.error(message, title="release-kit")
    else:
        click.echo(f"release-kit: error: {message}", err=True)
    return code


def _print_traceback() -> None:
    """RELEASE_KIT_DEBUG=1: the traceback, redacted and never read as workflow commands, like all our output."""
    gha.echo_untrusted(traceback.format_exc(), err=True)


def _network_error(exc: BaseException) -> bool:
    httpx = sys.modules.get("httpx")  # only loaded once a command talked to a remote
    return httpx is not None and isinstance(exc, httpx.TransportError)


def _describe_network_error(exc: BaseException) -> str:
    from release_kit.http import unreachable_cause, unreachable_hint

    try:
        host = exc.request.url.host  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is attached
        host = "a remote"
    cause = unreachable_cause(exc)
    if cause is not None:
        return f"{host}: {cause} ({unreachable_hint()})"
    return f"network error talking to {host}: {type(exc).__name__}: {exc}"


def run_cli(argv: list[str] | None = None) -> int:
    debug = os.environ.get("RELEASE_KIT_DEBUG") == "1"
    try:
        result = cli.main(args=argv, prog_name="release-kit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""  # e.g. release-kit release build
        return _fail(exc.format_message() + hint, ExitCode.USAGE)
    except click.Abort:
        return _fail("aborted", 130)
    except ReleaseKitError as exc:
        if debug:
            _print_traceback()
        return _fail(exc.one_line(), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            _print_traceback()
        if _network_error(exc):  # a final network failure that no retry could cure
            return _fail(_describe_network_error(exc), ExitCode.REMOTE)
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (a bug; RELEASE_KIT_DEBUG=1 shows the traceback)",
            INTERNAL_ERROR,
        )
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run_cli())
