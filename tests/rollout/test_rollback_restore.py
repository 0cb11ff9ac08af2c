"""The restore advice a rollback prints: the exact command per database kind, and remote ids checked first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from release_kit.rollout.restore import advise, rds_identifier, restored_name
from release_kit.target.settings import DatabaseRef

SNAP = "release-kit-v1-4-0-202612011230"
INSTANCE = DatabaseRef(rds_instance="agent-pg")


@pytest.mark.parametrize(
    "snapshot",
    ["1-starts-with-a-digit", "double--hyphen", "trailing-", "has.dot", "has:colon", "a" * 256, "arn:aws:rds:x"],
)
def test_a_snapshot_id_outside_rds_grammar_gets_no_command(snapshot: str) -> None:
    advice = advise(INSTANCE, snapshot, rolled_back_ref="v1.4.0")
    assert advice.command is None
    assert "is not an RDS snapshot identifier" in advice.notes[0]


def test_rds_grammar_accepts_release_kit_names() -> None:
    assert rds_identifier(SNAP) and rds_identifier("a") and rds_identifier("A" + "b" * 254)


def test_the_instance_command_is_exact_and_quoted_for_a_shell() -> None:
    advice = advise(INSTANCE, SNAP, rolled_back_ref="v1.4.0")
    assert advice.command_line == (
        "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier agent-pg-restored "
        f"--db-snapshot-identifier {SNAP}"
    )
    assert "before v1.4.0's migration" in advice.notes[0] and "restores nothing" in advice.notes[0]
    assert advice.schema_kept.startswith("no migration was run: the database keeps its schema")


def test_aurora_without_a_known_engine_leaves_a_placeholder_and_says_why() -> None:
    advice = advise(DatabaseRef(rds_cluster="agent-aurora"), SNAP, rolled_back_ref="v1.4.0", engine_problem="denied")
    assert advice.command is not None and advice.command[-2:] == ["--engine", "<engine>"]
    assert any("engine is unknown (denied)" in n for n in advice.notes)
    engine = advise(DatabaseRef(rds_cluster="agent-aurora"), SNAP, rolled_back_ref="v1", engine="bad engine;rm")
    assert engine.command is not None and engine.command[-1] == "<engine>"  # remote text never becomes a command


def test_azure_falls_back_to_the_record_time_when_the_snapshot_name_has_none() -> None:
    when = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    advice = advise(
        DatabaseRef(azure_postgres="agent-pg"), "manual-before-1-4", rolled_back_ref="v1.4.0",
        rolled_back_at=when, resource_group="rg-prod",
    )  # fmt: skip
    assert advice.command is not None and advice.command[-2:] == ["--restore-time", "2026-11-30T08:15:00Z"]


def test_no_database_configured_and_no_snapshot() -> None:
    assert advise(None, SNAP, rolled_back_ref="v1.4.0").command is None
    none = advise(INSTANCE, None, rolled_back_ref="v1.4.0")
    assert none.command is None and none.notes[0].startswith("no snapshot recorded by v1.4.0's record")


def test_restored_names_stay_within_63_characters() -> None:
    assert restored_name("x" * 80) == "x" * 54 + "-restored" and len(restored_name("x" * 80)) == 63
