"""Options of ``release-kit record`` and ``release-kit last-good``; imports only click (``--help`` stays fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from release_kit.gha import input_env as env

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, func: F, /) -> F: ...


def register(group: click.Group, verdict_options: Decorator) -> None:
    """Add both commands to ``group``, with the shared ``--report``/``--format`` options."""

    @group.command("record")
    @click.option("--repo", envvar=env("repo"), help="OWNER/NAME. Default: $GITHUB_REPOSITORY.")
    @click.option("--environment", envvar=env("environment"), help="The GitHub environment, e.g. production.")
    @click.option(
        "--state",
        envvar=env("state"),
        metavar="success|failure",
        help="The deploy's outcome. The command exits 0 once it is recorded, whatever the state.",
    )
    @click.option(
        "--image",
        "images",
        multiple=True,
        envvar=env("images"),
        metavar="ROLE=REF",
        help="An image deployed, pinned by digest (repo@sha256:<64 hex> or repo:tag@sha256:...). Repeatable.",
    )
    @click.option(
        "--images-from",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("images-from"),
        metavar="PUBLISH_REPORT",
        help="The JSON report publish-images wrote: each image's repository@digest, by name.",
    )
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
        help="The tag or commit deployed. Default: $GITHUB_REF_NAME for a tag, else $GITHUB_SHA.",
    )
    @click.option(
        "--rollback-of",
        type=click.IntRange(min=1),
        envvar=env("rollback-of"),
        metavar="DEPLOYMENT_ID",
        help="This deploy rolls back that deployment.",
    )
    @click.option("--environment-url", envvar=env("environment-url"), help="The environment's URL, shown by GitHub.")
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
        report_path: Path | None,
        fmt: str,
    ) -> int:
        """Record a deploy as a GitHub Deployment with its status (needs deployments: write)."""
        from release_kit.deploy_record.command import record as run

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
            report_path=report_path,
            fmt=fmt,
        )

    @group.command("last-good")
    @click.option("--repo", envvar=env("repo"), help="OWNER/NAME. Default: $GITHUB_REPOSITORY.")
    @click.option("--environment", envvar=env("environment"), help="The GitHub environment, e.g. production.")
    @click.option(
        "--to",
        "to_ref",
        envvar=env("to"),
        metavar="REF",
        help="The newest good record of this tag or commit, instead of the last good other than what runs now.",
    )
    @verdict_options
    def last_good(
        repo: str | None, environment: str | None, to_ref: str | None, report_path: Path | None, fmt: str
    ) -> int:
        """Find the last known good images recorded for an environment (exit 1 when there are none)."""
        from release_kit.deploy_record.command import last_good as run

        return run(repo=repo, environment=environment, to_ref=to_ref, report_path=report_path, fmt=fmt)
