"""Options of ``release-kit record`` and ``release-kit last-good``; imports only click (``--help`` stays fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit.options import env, image_options, repo_option, verdict_options
from release_kit.target.options import where_options

F = TypeVar("F", bound=Callable[..., Any])


@click.command("record")
@repo_option
@click.option("--environment", envvar=env("environment"), help="Required. The GitHub environment, e.g. production.")
@click.option(
    "--state",
    envvar=env("state"),
    metavar="success|failure",
    help="Required. The deploy's outcome. The command exits 0 once it is recorded, whatever the state.",
)
@image_options
@click.option(
    "--check",
    "checks",
    multiple=True,
    envvar=env("checks"),
    metavar="NAME=pass|fail",
    help="A check run after the deploy (health, smoke). Repeatable.",
)
@click.option("--snapshot", envvar=env("snapshot"), help="The database snapshot taken before the migration.")
@click.option(
    "--ref",
    envvar=env("ref"),
    help="The tag or commit deployed. Required unless run for a tag ($GITHUB_REF_NAME) or $GITHUB_SHA is set.",
)
@click.option(
    "--rollback-of",
    type=click.IntRange(min=1),
    envvar=env("rollback-of"),
    metavar="DEPLOYMENT_ID",
    help="This deploy rolls back that deployment.",
)
@click.option("--environment-url", envvar=env("environment-url"), help="The environment's URL, shown by GitHub.")
@click.option(
    "--description",
    envvar=env("description"),
    help="What GitHub shows for the deployment and its status (140 characters), e.g. 'cancelled during "
    "deploy-web'. Default: the state, the ref and the checks.",
)
@verdict_options
def record(
    repo: str | None,
    environment: str | None,
    state: str | None,
    images: tuple[str, ...],
    images_from: Path | None,
    checks: tuple[str, ...],
    snapshot: str | None,
    ref: str | None,
    rollback_of: int | None,
    environment_url: str | None,
    description: str | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Record a deploy as a GitHub Deployment with its status (needs deployments: write)."""
    from release_kit.records.run import record as run

    return run(
        repo=repo,
        environment=environment,
        state=state,
        images=list(images),
        images_from=images_from,
        checks=list(checks),
        snapshot=snapshot,
        ref=ref,
        rollback_of=rollback_of,
        environment_url=environment_url,
        description=description or None,
        report_path=report_path,
        fmt=fmt,
    )


@click.command("last-good")
@repo_option
@click.option("--environment", envvar=env("environment"), help="Required. The GitHub environment, e.g. production.")
@click.option(
    "--to",
    "to_ref",
    envvar=env("to"),
    metavar="REF",
    help="The newest good record of this tag or commit, instead of the last good other than what runs now.",
)
@where_options
@verdict_options
def last_good(
    repo: str | None, environment: str | None, to_ref: str | None, report_path: Path | None, fmt: str, **where: Any
) -> int:
    """Find the last known good images recorded for an environment (exit 1 when there are none).

    Only records whose images come from the allowed repositories count (deploy.images, else the
    repository each service of deploy.services runs now); the others are listed as skipped.
    """
    from release_kit.records.run import last_good as run

    return run(repo=repo, environment=environment, to_ref=to_ref, report_path=report_path, fmt=fmt, **where)


for _param in record.params:  # one of the two is needed; click's required=True would refuse the other's value
    if isinstance(_param, click.Option) and _param.name in {"images", "images_from"} and _param.help:
        _param.help = f"Required: one of --image or --images-from. {_param.help}"
