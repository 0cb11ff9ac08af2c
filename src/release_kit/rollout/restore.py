"""How to restore the database a rollback leaves alone: the exact command, printed, never run.

Pure: the configured database (``deploy.backups.database``), the snapshot named by the record of
the release being rolled back (taken before its migration: it holds the schema the good images
expect) and, for Aurora, the snapshot's engine, in; advice out. The snapshot id is remote text
(a GitHub deployment's payload), so it is checked against RDS's identifier grammar before any
command names it.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from release_kit.target.settings import DatabaseRef

# DB (cluster) snapshot and instance identifiers: a letter, then letters, digits or single hyphens; no trailing hyphen
RDS_ID_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,254}\Z")
ENGINE_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}\Z")
AZURE_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
STAMP_RE = re.compile(r"-(\d{12})\Z")  # release-kit-<tag>-<UTC yyyymmddhhmm>
NEW_ID_LIMIT = 63  # DB instance and cluster identifiers


class RestoreAdvice(BaseModel):
    """What the report says about the database: it keeps its schema; how a forced restore would go."""

    model_config = ConfigDict(frozen=True)

    schema_kept: str = Field(description="The rollback ran no migration; the database keeps its schema.")
    database: str | None = Field(None, description="deploy.backups.database as kind:name.")
    snapshot: str | None = Field(None, description="The snapshot the rolled-back release's record names.")
    snapshot_of: str | None = Field(None, description="The release whose record names it.")
    command: list[str] | None = Field(None, description="The restore command's arguments (not run).")
    notes: list[str] = Field(default_factory=list)

    @property
    def command_line(self) -> str | None:
        return shlex.join(self.command) if self.command else None


def rds_identifier(value: str) -> bool:
    return bool(RDS_ID_RE.match(value)) and len(value) <= 255


def restored_name(name: str, *, limit: int = NEW_ID_LIMIT) -> str:
    """``agent-pg-restored``: the new instance or cluster (a restore never overwrites the source)."""
    base = name[: limit - len("-restored")].rstrip("-")
    return f"{base}-restored"


def snapshot_time(snapshot: str, fallback: datetime | None) -> datetime | None:
    """When the snapshot was taken: the UTC minute in release-kit's name for it, else ``fallback``."""
    found = STAMP_RE.search(snapshot)
    if found:
        try:
            return datetime.strptime(found.group(1), "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            pass
    return fallback


def advise(
    database: DatabaseRef | None,
    snapshot: str | None,
    *,
    rolled_back_ref: str | None,
    good_ref: str | None = None,
    rolled_back_at: datetime | None = None,
    resource_group: str | None = None,
    engine: str | None = None,
    engine_problem: str | None = None,
) -> RestoreAdvice:
    """The restore advice for ``database`` from ``snapshot`` (the rolled-back release's, or None)."""
    kept = "no migration was run: the database keeps its schema (rollback never changes it)"
    where = f"{database.kind}:{database.name}" if database else None
    release = rolled_back_ref or "the rolled-back release"
    if not snapshot:
        return RestoreAdvice(
            schema_kept=kept,
            database=where,
            snapshot_of=rolled_back_ref,
            notes=[
                f"no snapshot recorded by {release}'s record: nothing to restore from; if its migration must be "
                "undone, restore a backup from before it by hand"
            ],
        )
    base = RestoreAdvice(schema_kept=kept, database=where, snapshot=snapshot, snapshot_of=rolled_back_ref)
    intro = (
        f"snapshot {snapshot} was taken before {release}'s migration and holds the schema these images expect; "
        "release-kit restores nothing"
    )
    again = f"release-kit rollback --to {good_ref}" if good_ref else "release-kit deploy"
    then = f"then point the services' database at the restored copy and redeploy these images ({again})"
    if database is None:
        return base.model_copy(
            update={"notes": [intro, "no deploy.backups.database configured: no restore command to print", then]}
        )
    if database.kind in ("rds_instance", "rds_cluster") and not rds_identifier(snapshot):
        return base.model_copy(
            update={"notes": [f"{snapshot!r} is not an RDS snapshot identifier: no restore command printed"]}
        )
    if database.kind == "rds_instance":
        command = [
            "aws", "rds", "restore-db-instance-from-db-snapshot",
            "--db-instance-identifier", restored_name(database.name),
            "--db-snapshot-identifier", snapshot,
        ]  # fmt: skip
        return base.model_copy(update={"command": command, "notes": [intro, then]})
    if database.kind == "rds_cluster":
        engine_ok = engine if engine and ENGINE_RE.match(engine) else None
        command = [
            "aws", "rds", "restore-db-cluster-from-snapshot",
            "--db-cluster-identifier", restored_name(database.name),
            "--snapshot-identifier", snapshot,
            "--engine", engine_ok or "<engine>",
        ]  # fmt: skip
        notes = [intro]
        if not engine_ok:
            notes.append(
                f"the snapshot's engine is unknown ({engine_problem or 'not read'}): put the cluster's engine, "
                "e.g. aurora-postgresql, for <engine>"
            )
        notes += [
            "the restored cluster has no instances: add one (aws rds create-db-instance --db-cluster-identifier "
            f"{restored_name(database.name)} ...) before it serves",
            then,
        ]
        return base.model_copy(update={"command": command, "notes": notes})
    # azure_postgres: flexible servers restore to a point in time
    when = snapshot_time(snapshot, rolled_back_at)
    if when is None or not AZURE_NAME_RE.match(database.name) or not resource_group:
        missing = "deploy.resource_group" if not resource_group else "the snapshot's time"
        return base.model_copy(
            update={"notes": [intro, f"no point-in-time restore command: {missing} is unknown or invalid", then]}
        )
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    command = [
        "az", "postgres", "flexible-server", "restore",
        "--resource-group", resource_group,
        "--name", restored_name(database.name),
        "--source-server", database.name,
        "--restore-time", stamp,
    ]  # fmt: skip
    notes = [
        f"{snapshot} names the point before {release}'s migration ({stamp}); Azure restores the server as it was "
        "then into a new server; release-kit restores nothing",
        then,
    ]
    return base.model_copy(update={"command": command, "notes": notes})
