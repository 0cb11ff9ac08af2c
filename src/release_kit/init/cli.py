"""``release-kit init`` options (click only: importing this costs nothing at start-up)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--registry",
    type=click.Choice(["ghcr", "ecr", "acr"]),
    default="ghcr",
    show_default=True,
    help="Where release.yml publishes the images.",
)
@click.option(
    "--platform",
    type=click.Choice(["ecs", "container-apps"]),
    default="ecs",
    show_default=True,
    help="Where the services run: the deploy: section, the deploy and rollback workflows.",
)
@click.option(
    "--dir",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Any folder of the repository to set up: init reads the whole repository and writes into its git "
    "root's .github/ (outside a git repository: exit 2).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: list every FILL-IN marker left in .github/release-kit.yml and the release, deploy and "
    "rollback workflows (file, line, key or input); exit 1 while any is left, 0 when none.",
)
@click.option(
    "--owner",
    envvar="RELEASE_KIT_OWNER",
    help="Owner of the release-kit repository the workflows call (a fork's owner). "
    "Default: the one it was installed from with git, else the placeholder org.",
)
@click.option(
    "--ref",
    help="Commit (40 hex) or tag the workflows call. Default: the commit it was installed from with git, "
    "else the tag v<version>.",
)
def init(registry: str, platform: str, repo: Path, force: bool, check: bool, owner: str | None, ref: str | None) -> int:
    """Write the runbook into a repository: the config, the smoke spec, the workflows and the set-up.

    It writes .github/release-kit.yml, .github/release-kit-smoke.yml, the release, deploy and rollback
    workflows and .github/release-kit-setup.md (the cloud and GitHub set-up, also printed), naming the
    Dockerfiles, packages, frontend and migration command found in the repository (docs/init.md).
    With --check it writes nothing and lists the FILL-IN markers left (exit 1 while any is left).
    """
    if check:
        from release_kit.init.check import run_check
        from release_kit.init.run import repository_root

        return run_check(repository_root(repo))
    from release_kit.init.run import run

    return run(registry=registry, platform=platform, repo=repo, force=force, owner=owner, ref=ref)


@click.command()
@click.argument("which", type=click.Choice(["config", "smoke"]), default="config")
def schema(which: str) -> None:
    """Print the JSON Schema of .github/release-kit.yml (config) or of the smoke spec (smoke)."""
    if which == "smoke":
        from release_kit.probes.smoke_spec import schema_text as smoke_schema

        click.echo(smoke_schema(), nl=False)
        return
    from release_kit.config import schema_text

    click.echo(schema_text(), nl=False)
