"""The ``release-kit preflight`` command's options (click only: imported by cli.py at start-up)."""

from __future__ import annotations

from pathlib import Path

import click

from release_kit.options import env, verdict_options
from release_kit.target.options import where_options


@click.command("preflight")
@where_options
@click.option(
    "--task-definition",
    "task_definitions",
    multiple=True,
    envvar=env("task-definitions"),
    metavar="ROLE=FILE|ARN",
    help="ecs: judge this task definition (JSON file or registered ARN) instead of the running one. Repeatable.",
)
@click.option(
    "--app-file",
    "app_files",
    multiple=True,
    envvar=env("app-files"),
    metavar="ROLE=FILE",
    help="container-apps: judge this app document (az containerapp show -o json) instead of the live app. Repeatable.",
)
@click.option(
    "--allow-unknown", is_flag=True, envvar=env("allow-unknown"), help="Checks that could not be judged do not fail."
)
@click.option(
    "--check-access",
    is_flag=True,
    envvar=env("check-access"),
    help="Instead of the checklist: ask the cloud whether this identity may do what migrate, deploy and "
    "rollback will do on the configured resources (ecs: IAM's policy simulator; container-apps: Azure's "
    "permissions API), naming what to grant.",
)
@click.option(
    "--arm-endpoint",
    envvar=[env("arm-endpoint"), "AZURE_ARM_ENDPOINT"],
    help="container-apps: Azure Resource Manager URL for sovereign clouds. Default: https://management.azure.com.",
)
@verdict_options
def preflight(
    config_path: Path | None,
    platform: str | None,
    cluster: str | None,
    region: str | None,
    subscription: str | None,
    resource_group: str | None,
    services: tuple[str, ...],
    containers: tuple[str, ...],
    task_definitions: tuple[str, ...],
    app_files: tuple[str, ...],
    allow_unknown: bool,
    check_access: bool,
    arm_endpoint: str | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Judge the runbook's pre-deploy checklist on the revision that will run (ECS or Container Apps).

    Secret references, required literal env, billing worker topology, database and Redis backups,
    rotated secrets, credential-like literals. Exit 0 ready; 1 a check fails or is unknown; 2 bad
    input, an unknown service or a denied permission; 3 the cloud gave up after retries.
    """
    from release_kit.preflight.run import run

    return run(
        config_path=config_path,
        platform=platform,
        cluster=cluster,
        resource_group=resource_group,
        services=services,
        region=region,
        subscription=subscription,
        containers=containers,
        task_definitions=task_definitions,
        app_files=app_files,
        allow_unknown=allow_unknown,
        check_access=check_access,
        arm_endpoint=arm_endpoint,
        report_path=report_path,
        fmt=fmt,
    )
