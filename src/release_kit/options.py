"""Options every command shares, for cli.py and each capability's ``commands`` module (click only, so
``release-kit --help`` stays fast). An option's environment variable is its action input's: ``RK_<INPUT>``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit.gha import input_env as env
from release_kit.params import REPO

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "config_option",
    "env",
    "identity_options",
    "image_options",
    "repo_option",
    "trusted_root_option",
    "verdict_options",
]


def verdict_options(func: F) -> F:
    """``--report`` and ``--format``, shared by every command that produces a verdict."""
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        envvar=env("format"),
        help="What stdout gets: a table or the JSON report.",
    )(func)
    func = click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("report"),
        help="Also write the JSON report to this file.",
    )(func)
    return func


def config_option(help_text: str) -> Callable[[F], F]:
    """``--config PATH`` (``RK_CONFIG``): the configuration file, else .github/release-kit.yml if present."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("config"),
        help=help_text,
    )


def image_options(func: F) -> F:
    """``--image ROLE=REF`` (repeatable, pinned by digest) and ``--images-from`` a publish-images report."""
    func = click.option(
        "--images-from",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("images-from"),
        metavar="PUBLISH_REPORT",
        help="The JSON report publish-images wrote (--report): each image's repository@digest, by name.",
    )(func)
    func = click.option(
        "--image",
        "images",
        multiple=True,
        envvar=env("images"),
        metavar="ROLE=REF",
        help="A role's image pinned by digest (REPO@sha256:<64 hex> or REPO:TAG@sha256:...). Repeatable.",
    )(func)
    return func


repo_option = click.option(
    "--repo",
    type=REPO,
    envvar=env("repo"),
    help="OWNER/NAME or its URL. Required unless $GITHUB_REPOSITORY is set or (outside Actions) the origin "
    "remote is on GitHub: then that one, said on stderr.",
)
"""``--repo`` (``RK_REPO``): ``OWNER/NAME``, or the repository's URL on this GitHub."""


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


trusted_root_option = click.option(
    "--custom-trusted-root",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=env("custom-trusted-root"),
    help="Verify every bundle against this Sigstore trusted_root.json alone (GHES, air-gapped runners): "
    "no TUF request is made.",
)
"""``--custom-trusted-root FILE``: a Sigstore ``trusted_root.json`` every bundle is verified against alone."""
