"""The options that say where the services run, shared by preflight, migrate, deploy and rollback
(click only: ``release-kit --help`` stays fast). They resolve through :mod:`release_kit.target.resolve`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit.options import env, trusted_root_option
from release_kit.platforms import ALL_PLATFORMS

F = TypeVar("F", bound=Callable[..., Any])


class RegisteredPlatform(click.Choice[str]):
    """``--platform``: a name in the platform registry, read when the value is checked or the help is
    written (a platform registered after this module was imported is known too)."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(ALL_PLATFORMS)

    @choices.setter
    def choices(self, value: object) -> None:  # click's __init__ assigns it: the registry is the source
        pass


def where_options(func: F) -> F:
    """Where the services run: the deploy: section of the config, each key also a flag."""
    for option in reversed(
        [
            click.option(
                "--config",
                "config_path",
                type=click.Path(dir_okay=False, path_type=Path),
                envvar=env("config"),
                help="Config file with a deploy: section. Default: .github/release-kit.yml if present.",
            ),
            click.option(
                "--platform",
                type=RegisteredPlatform(),
                envvar=env("platform"),
                help="deploy.platform.",
            ),
            click.option("--region", envvar=env("region"), help="ecs: AWS region. Default: deploy.region, AWS_REGION."),
            click.option("--cluster", envvar=env("cluster"), help="ecs: cluster name or ARN (deploy.cluster)."),
            click.option(
                "--subscription", envvar=env("subscription"), help="container-apps: default AZURE_SUBSCRIPTION_ID."
            ),
            click.option("--resource-group", envvar=env("resource-group"), help="container-apps: resource group."),
            click.option(
                "--service",
                "services",
                multiple=True,
                envvar=env("services"),
                metavar="ROLE=NAME",
                help="ECS service or container app per role (deploy.services). Repeatable.",
            ),
            click.option(
                "--container",
                "containers",
                multiple=True,
                envvar=env("containers"),
                metavar="ROLE=NAME",
                help="Container per role (deploy.containers). Default: the role's name, else the only one.",
            ),
        ]
    ):
        func = option(func)
    return func


rollout_timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=1, max=6 * 3600),
    default=900,
    show_default=True,
    envvar=env("timeout"),
    help="Seconds each role may take to be running, healthy and serving.",
)
"""deploy's and rollback's ``--timeout``: the time each role's rollout may take."""


def attestation_options(func: F) -> F:
    """``--require-attestations`` (over ``deploy.require_attestations``) and ``--custom-trusted-root``."""
    func = trusted_root_option(func)
    return click.option(
        "--require-attestations",
        is_flag=True,
        default=None,
        envvar=env("require-attestations"),
        help="Deploy only digests with a build-provenance attestation from this repository's release workflow "
        "(deploy.signer_workflow), checked before anything changes. Default: deploy.require_attestations.",
    )(func)
