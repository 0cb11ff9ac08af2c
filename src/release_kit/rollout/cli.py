"""Click options of ``release-kit migrate``, ``deploy`` and ``rollback`` (click only: --help stays fast)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from release_kit.options import env, image_options, repo_option, verdict_options
from release_kit.target.options import attestation_options, rollout_timeout_option, where_options

F = TypeVar("F", bound=Callable[..., Any])


@click.command("migrate")
@click.option(
    "--command",
    envvar=env("command"),
    help="Required unless deploy.migrations.command is set. The migration command, split like a shell, "
    "e.g. 'starter-console release db'.",
)
@click.option(
    "--image",
    envvar=env("image"),
    metavar="REF",
    help="Run the migration from this image (REPO[:TAG]@sha256:...). Default: the API's current image (ecs) "
    "or the job's (container-apps).",
)
@click.option(
    "--snapshot",
    is_flag=True,
    envvar=env("snapshot"),
    help="First take a manual snapshot of deploy.backups.database (RDS instance or Aurora cluster) and wait "
    "until it is available.",
)
@click.option(
    "--tag", envvar=env("tag"), help="The release, for the snapshot's name. Default: GITHUB_REF_NAME on a tag."
)
@click.option("--job", envvar=env("job"), help="container-apps: the Container Apps job (deploy.migrations.job).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1, max=6 * 3600),
    default=1800,
    show_default=True,
    envvar=env("timeout"),
    help="Seconds for the snapshot and the migration together.",
)
@where_options
@verdict_options
def migrate(**kwargs: Any) -> int:
    """Run the database migration once as a one-off task or job; optionally snapshot first.

    A migration that fails exits 1 and is never retried.
    """
    from release_kit.rollout.migrate import migrate_command

    return migrate_command(**kwargs)


@click.command("deploy")
@image_options
@rollout_timeout_option
@repo_option
@attestation_options
@where_options
@verdict_options
def deploy(**kwargs: Any) -> int:
    """Deploy digest-pinned images role by role (api, then web), each checked; stop at the first fail."""
    from release_kit.rollout.deploy import deploy_command

    return deploy_command(**kwargs)


@click.command("rollback")
@click.option("--environment", envvar=env("environment"), help="Required. The GitHub environment, e.g. production.")
@click.option(
    "--to",
    "to_ref",
    envvar=env("to"),
    metavar="REF",
    help="Roll back to the newest good record of this tag or commit. Default: the last good record whose "
    "images differ from what runs now.",
)
@rollout_timeout_option
@repo_option
@attestation_options
@where_options
@verdict_options
def rollback(**kwargs: Any) -> int:
    """Redeploy the last known good images (api, then web) and record it; never a migration.

    The database keeps its schema: when the release rolled back recorded a snapshot, the exact
    restore command is printed, never run. No good record: exit 1.
    """
    from release_kit.rollout.rollback import rollback_command

    return rollback_command(**kwargs)


for _param in deploy.params:  # one of the two is needed; click's required=True would refuse the other's value
    if isinstance(_param, click.Option) and _param.name in {"images", "images_from"} and _param.help:
        _param.help = f"Required: one of --image or --images-from. {_param.help}"
