"""A manual snapshot of the database before a migration: RDS instance or Aurora cluster.

Named ``release-kit-<tag>-<UTC yyyymmddhhmm>`` made a valid RDS identifier, and waited for until
``available``, so a forced restore has a point from just before the schema changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from release_kit.clouds.aws import Aws
from release_kit.errors import RemoteError
from release_kit.rollout.models import Finding, Verdict, clean
from release_kit.rollout.waiting import POLL_INTERVAL, Deadline, wait_for
from release_kit.target.settings import DatabaseRef

MAX_ID = 255  # DB snapshot identifiers: 1-255 letters, digits, hyphens; a letter first; no '--', no trailing '-'


def snapshot_identifier(tag: str, when: datetime) -> str:
    """``release-kit-v1-4-0-202612011230`` for ``v1.4.0`` at 2026-12-01 12:30 UTC."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M")
    slug = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")
    slug = slug[: MAX_ID - len("release-kit--") - len(stamp)].strip("-")
    return f"release-kit-{slug}-{stamp}" if slug else f"release-kit-{stamp}"


def take_snapshot(
    aws: Aws, database: DatabaseRef, tag: str, deadline: Deadline, *, interval: float = POLL_INTERVAL
) -> tuple[str, Finding]:
    """Create the snapshot and wait until it is available: its id and the verdict."""
    rds = aws.client("rds")
    ident = snapshot_identifier(tag, datetime.fromtimestamp(deadline.clock.now(), UTC))
    tags = [{"Key": "created-by", "Value": "release-kit"}, {"Key": "release", "Value": tag[:256]}]
    cluster = database.kind == "rds_cluster"
    if cluster:
        aws.call(
            "rds:CreateDBClusterSnapshot",
            rds.create_db_cluster_snapshot,
            DBClusterSnapshotIdentifier=ident,
            DBClusterIdentifier=database.name,
            Tags=tags,
        )
    else:
        aws.call(
            "rds:CreateDBSnapshot",
            rds.create_db_snapshot,
            DBSnapshotIdentifier=ident,
            DBInstanceIdentifier=database.name,
            Tags=tags,
        )

    def observe() -> Finding:
        if cluster:
            found = aws.call(
                "rds:DescribeDBClusterSnapshots", rds.describe_db_cluster_snapshots, DBClusterSnapshotIdentifier=ident
            )
            items = found.get("DBClusterSnapshots") or []
        else:
            found = aws.call("rds:DescribeDBSnapshots", rds.describe_db_snapshots, DBSnapshotIdentifier=ident)
            items = found.get("DBSnapshots") or []
        if not items:
            raise RemoteError(f"AWS lost snapshot {ident} right after creating it")
        status = str(items[0].get("Status") or "unknown")
        progress = items[0].get("PercentProgress")
        if status == "available":
            return Finding(verdict=Verdict.PASS, reason=f"snapshot {ident} is available")
        if status in ("failed", "deleted", "deleting", "incompatible-restore"):
            return Finding(verdict=Verdict.FAIL, reason=f"snapshot {ident} is {clean(status)}")
        suffix = f", {progress}%" if progress is not None else ""
        return Finding(verdict=Verdict.WAIT, reason=f"snapshot {ident} is {clean(status)}{suffix}")

    return ident, wait_for(f"snapshot of {database.name}", observe, deadline, interval=interval)
