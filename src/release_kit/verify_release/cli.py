"""``release-kit verify-release`` options (click only: importing this costs nothing at start-up)."""

from __future__ import annotations

from pathlib import Path

import click

from release_kit.options import config_option, env, identity_options, repo_option, trusted_root_option, verdict_options


@click.command("verify-release")
@repo_option
@click.option(
    "--tag", envvar=env("tag"), help="The release's tag, e.g. v1.4.0. Required unless $GITHUB_REF is a tag (then that)."
)
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
@trusted_root_option
@click.option(
    "--require-immutable",
    is_flag=True,
    envvar=env("require-immutable"),
    help="Fail unless the release is immutable and GitHub's release attestation verifies.",
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
    custom_trusted_root: Path | None,
    require_immutable: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Prove a published release holds every expected asset, with matching digests and valid attestations."""
    from release_kit.verify_release.run import run

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
        custom_trusted_root=custom_trusted_root,
        require_immutable=require_immutable,
        report_path=report_path,
        fmt=fmt,
    )
