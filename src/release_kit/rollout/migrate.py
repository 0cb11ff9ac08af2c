"""migrate: the database migration as a one-off job (never on API start-up), optionally after a
manual snapshot. A failed migration is never retried: it stops the deploy (exit 1).

Importable for rollback and scripts: :func:`run_migration`.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from release_kit.errors import ExitCode, InputError
from release_kit.http import Clock, SystemClock
from release_kit.platforms import Engine, get
from release_kit.rollout.deploy import DEFAULT_MIGRATE_TIMEOUT, allowed_for, engine_for
from release_kit.rollout.images import ImageRef, parse_image
from release_kit.rollout.models import MigrationReport, Verdict
from release_kit.rollout.waiting import Deadline
from release_kit.target.resolve import settings_from_flags
from release_kit.target.settings import DeploySettings


def split_command(command: str | None) -> list[str]:
    if not command or not command.strip():
        raise InputError(
            "--command is required: the migration command, e.g. 'starter-console release db' "
            "(or set deploy.migrations.command)"
        )
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--command {command!r}: cannot split it like a shell would ({exc})") from None
    return argv


def release_tag(tag: str | None, image: ImageRef | None) -> str:
    """The release the snapshot is named for: --tag, else GITHUB_REF_NAME on a tag, else the image's tag."""
    if tag:
        return tag
    if os.environ.get("GITHUB_REF_TYPE") == "tag" and os.environ.get("GITHUB_REF_NAME"):
        return os.environ["GITHUB_REF_NAME"]
    if image is not None and image.tag:
        return image.tag
    raise InputError("--snapshot needs the release's name: pass --tag (e.g. v1.4.0), or give --image a tag")


def run_migration(
    settings: DeploySettings,
    command: list[str],
    image: ImageRef | None = None,
    snapshot: bool = False,
    timeout: float = DEFAULT_MIGRATE_TIMEOUT,
    *,
    tag: str | None = None,
    clock: Clock | None = None,
    engine: tuple[Engine, Any] | None = None,
) -> MigrationReport:
    """Snapshot first (``snapshot``), then run ``command`` once and wait for its verdict; one deadline for both."""
    platform = settings.require_platform()
    target = get(platform).migration_target(settings)
    database = settings.backups.database
    if snapshot and database is None:
        raise InputError(
            "--snapshot: no database to snapshot; set deploy.backups.database (rds_instance or rds_cluster)"
        )
    if snapshot and database is not None and database.kind not in ("rds_instance", "rds_cluster"):
        raise InputError(
            f"--snapshot: deploy.backups.database is {database.kind}; release-kit takes manual snapshots of "
            "RDS instances and Aurora clusters (Azure Database for PostgreSQL restores to a point in time instead)"
        )
    name = release_tag(tag, image) if snapshot else None
    clock = clock or SystemClock()
    start = clock.now()
    runner, counter = engine or engine_for(settings, clock=clock)
    if image is not None:  # the migration runs with the API's role and secrets: only the API's own images
        allowed_for(settings, ["api"], (runner, counter)).require({"api": image})
    deadline = Deadline.after(clock, timeout)
    base: dict[str, Any] = {"platform": platform, "command": command, "image": str(image) if image else None}

    snapshot_id: str | None = None
    if snapshot and database is not None and name is not None:
        from release_kit.clouds.aws import Aws
        from release_kit.rollout.snapshot import take_snapshot

        aws = counter if isinstance(counter, Aws) else Aws(settings.aws_region())  # one request count where shared
        snapshot_id, finding = take_snapshot(aws, database, name, deadline, interval=getattr(runner, "interval", 5.0))
        if finding.verdict is not Verdict.PASS:
            return MigrationReport(
                **base,
                passed=False,
                verdict=Verdict.FAIL,
                reason=f"no migration run: {finding.reason}",
                snapshot=snapshot_id,
                seconds=round(clock.now() - start, 2),
                calls=int(getattr(counter, "calls", 0)),
            )

    outcome = runner.migrate(target, settings.containers.get("api"), command, image, deadline)
    verdict = outcome.pop("verdict")
    return MigrationReport(
        **(base | outcome),
        passed=verdict is Verdict.PASS,
        verdict=verdict,
        snapshot=snapshot_id,
        seconds=round(clock.now() - start, 2),
        calls=int(getattr(counter, "calls", 0)),
    )


def migrate_command(
    *,
    command: str | None,
    image: str | None,
    snapshot: bool,
    tag: str | None,
    job: str | None,
    timeout: float,
    report_path: Path | None,
    fmt: str,
    config_path: Path | None,
    **flags: Any,
) -> ExitCode:
    from release_kit.rollout.report import publish_migration

    ref = parse_image(image, "--image") if image else None
    settings = settings_from_flags(config_path, **flags)
    if job:
        settings = settings.model_copy(update={"migrations": settings.migrations.model_copy(update={"job": job})})
    argv = split_command(command or settings.migrations.command)
    report = run_migration(settings, argv, ref, snapshot, timeout, tag=tag)
    return publish_migration(report, report_path, fmt)
