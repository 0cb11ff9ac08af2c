"""A manual snapshot of the database before a migration: RDS instance or Aurora cluster.

Named ``release-kit-<tag>-<UTC yyyymmddhhmm>`` made a valid RDS identifier, and waited for until
``available``, so a forced restore has a point from just before the schema changed.

The create request is safe to retry because the identifier is ours and the snapshot carries a tag
unique to this run (``release-kit-run``): when botocore's retry of a create whose answer was lost
meets ``DBSnapshotAlreadyExists``, or every answer is lost, the snapshot of that name is read, and
when it is of our database with our run's tag it is waited for like one we were told about. One
that is not ours (another run's, or made by hand) stays an error. See docs/idempotency.md.
"""

from __future__ import annotations

import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from release_kit import gha
from release_kit.clouds.aws import Aws
from release_kit.errors import ReleaseKitError, RemoteError, RemoteGaveUp
from release_kit.rollout.models import Finding, Verdict, clean
from release_kit.rollout.waiting import POLL_INTERVAL, Deadline, wait_for
from release_kit.target.settings import DatabaseRef

MAX_ID = 255  # DB snapshot identifiers: 1-255 letters, digits, hyphens; a letter first; no '--', no trailing '-'
RUN_TAG = "release-kit-run"  # a value unique to one migrate: how a retry recognises the snapshot it made


class _Kind:
    """The instance and cluster flavours of the same four calls."""

    def __init__(self, cluster: bool) -> None:
        self.cluster = cluster
        self.noun = "DB cluster snapshot" if cluster else "DB snapshot"
        self.create = "rds:CreateDBClusterSnapshot" if cluster else "rds:CreateDBSnapshot"
        self.describe = "rds:DescribeDBClusterSnapshots" if cluster else "rds:DescribeDBSnapshots"
        self.exists = "DBClusterSnapshotAlreadyExistsFault" if cluster else "DBSnapshotAlreadyExists"
        self.missing = "DBClusterSnapshotNotFoundFault" if cluster else "DBSnapshotNotFound"
        self.source = "DBClusterIdentifier" if cluster else "DBInstanceIdentifier"
        self.cli = (
            "aws rds describe-db-cluster-snapshots --db-cluster-snapshot-identifier"
            if cluster
            else "aws rds describe-db-snapshots --db-snapshot-identifier"
        )


def _read(aws: Aws, rds: Any, kind: _Kind, ident: str) -> dict[str, Any] | None:
    """The snapshot named ``ident``, or None when there is none."""
    if kind.cluster:
        found = aws.call(
            kind.describe,
            rds.describe_db_cluster_snapshots,
            missing=(kind.missing,),
            DBClusterSnapshotIdentifier=ident,
        )
        items = (found or {}).get("DBClusterSnapshots") or []
    else:
        found = aws.call(kind.describe, rds.describe_db_snapshots, missing=(kind.missing,), DBSnapshotIdentifier=ident)
        items = (found or {}).get("DBSnapshots") or []
    return dict(items[0]) if items else None


def is_ours(snapshot: dict[str, Any], source: str, kind: _Kind, run: str) -> bool:
    """Made by this run: of ``source`` and tagged with this run's id (another run's, or one made by
    hand, has another tag or none)."""
    tags = {str(t.get("Key")): str(t.get("Value")) for t in snapshot.get("TagList") or [] if isinstance(t, dict)}
    return snapshot.get(kind.source) == source and tags.get(RUN_TAG) == run


def _claim(aws: Aws, rds: Any, kind: _Kind, ident: str, source: str, run: str, lost: RemoteGaveUp | None) -> None:
    """After a create that met an existing snapshot of our name, or lost every answer: go on when the
    snapshot is ours, else raise (exit 2 for another's, exit 3 when it cannot be told)."""
    check = f"{kind.cli} {ident}"
    try:
        found = _read(aws, rds, kind, ident)
    except ReleaseKitError as again:  # gave up, denied (a missing read permission), refused
        if lost is None:
            raise
        raise RemoteGaveUp(
            f"{lost.message}; the {kind.noun} {ident} may or may not have been created, and reading it failed too "
            f"({again.one_line()}); no migration run",
            hint=f"check with `{check}`",
        ) from None
    if found is None:
        if lost is not None:
            raise RemoteGaveUp(
                f"{lost.message}; there is no {kind.noun} {ident}, so it most likely was not created; no migration run",
                hint=f"check with `{check}`, then run migrate again",
            )
        raise RemoteError(f"AWS says {kind.noun} {ident} already exists but does not show it; no migration run")
    if not is_ours(found, source, kind, run):
        raise RemoteError(
            f"a {kind.noun} named {ident} already exists and this migrate did not make it "
            f"(of {clean(found.get(kind.source) or 'unknown')}, without this run's {RUN_TAG} tag); no migration run",
            hint=f"see it with `{check}`; run migrate again in a minute (the name carries the minute) or delete it",
        )
    how = "every answer was lost" if lost is not None else "the answer to an earlier attempt was lost"
    gha.annotate(
        "warning",
        f"AWS created {kind.noun} {ident} but {how} ({kind.create}); it carries this run's tag: waiting for it",
        title="snapshot found after a lost answer",
        stream=sys.stderr,
    )


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
    run = uuid.uuid4().hex
    tags = [
        {"Key": "created-by", "Value": "release-kit"},
        {"Key": "release", "Value": tag[:256]},
        {"Key": RUN_TAG, "Value": run},
    ]
    kind = _Kind(database.kind == "rds_cluster")
    cluster = kind.cluster
    lost: RemoteGaveUp | None = None
    try:
        if cluster:
            made = aws.call(
                kind.create,
                rds.create_db_cluster_snapshot,
                missing=(kind.exists,),
                DBClusterSnapshotIdentifier=ident,
                DBClusterIdentifier=database.name,
                Tags=tags,
            )
        else:
            made = aws.call(
                kind.create,
                rds.create_db_snapshot,
                missing=(kind.exists,),
                DBSnapshotIdentifier=ident,
                DBInstanceIdentifier=database.name,
                Tags=tags,
            )
    except RemoteGaveUp as exc:  # RDS may have made it all the same: look before giving up
        made, lost = None, exc
    if made is None:  # a retry met our name (its first attempt made it), or no answer came at all
        _claim(aws, rds, kind, ident, database.name, run, lost)

    def observe() -> Finding:
        if cluster:
            found = aws.call(kind.describe, rds.describe_db_cluster_snapshots, DBClusterSnapshotIdentifier=ident)
            items = found.get("DBClusterSnapshots") or []
        else:
            found = aws.call(kind.describe, rds.describe_db_snapshots, DBSnapshotIdentifier=ident)
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
