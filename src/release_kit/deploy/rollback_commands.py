"""Click options of ``release-kit rollback`` (click only: --help stays fast); deploy's platform options shared."""

from __future__ import annotations

from typing import Any

import click

from release_kit.deploy.target_options import rollout_timeout_option, where_options
from release_kit.options import env, repo_option, verdict_options


@click.command("rollback")
@click.option("--environment", envvar=env("environment"), help="The GitHub environment, e.g. production.")
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
@where_options
@verdict_options
def rollback(**kwargs: Any) -> int:
    """Redeploy the last known good images (api, then web) and record it; never a migration.

    The database keeps its schema: when the release rolled back recorded a snapshot, the exact
    restore command is printed, never run. No good record: exit 1.
    """
    from release_kit.deploy.rollback import rollback_command

    return rollback_command(**kwargs)
