"""Every JSON report says which command wrote it and when it started and finished (UTC, ISO 8601, Z)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from release_kit import reporting, timing


class Row(BaseModel):
    name: str
    started_at: datetime | None = None


class Report(BaseModel):
    passed: bool
    rows: list[Row]


START = datetime(2026, 12, 8, 2, 34, 7, 123456, tzinfo=UTC)


def group_with(report: BaseModel, path: Path, *, mark: bool = True, twice: bool = False) -> click.Group:
    @click.group()
    def root() -> None:
        if mark:
            timing.mark_started(at=START)  # the CLI edge

    @root.command("deploy")
    def deploy() -> None:
        reporting.write_report(report, path)
        if twice:
            reporting.write_report(report, path)
        reporting.emit(report, "", "json")

    return root


def test_a_report_carries_its_command_start_and_end(tmp_path: Path) -> None:
    report = Report(passed=True, rows=[Row(name="api", started_at=START + timedelta(seconds=1))])
    before = datetime.now(UTC)
    result = CliRunner().invoke(group_with(report, tmp_path / "r.json"), ["deploy"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "r.json").read_text())
    assert list(written)[:3] == ["command_path", "started_at", "finished_at"]
    assert written["command_path"] == "release-kit deploy"
    assert written["started_at"] == "2026-12-08T02:34:07.123Z"
    finished = timing.parse_iso(written["finished_at"])
    assert written["finished_at"].endswith("Z") and before - timedelta(milliseconds=1) <= finished <= datetime.now(UTC)
    assert written["rows"] == [{"name": "api", "started_at": "2026-12-08T02:34:08.123456Z"}]
    assert json.loads(result.output) == written  # --format json prints the same report, same times


def test_a_report_that_knows_its_own_times_keeps_them(tmp_path: Path) -> None:
    class Timed(BaseModel):
        started_at: datetime
        finished_at: datetime | None = None

    report = Timed(started_at=START - timedelta(minutes=5))
    CliRunner().invoke(group_with(report, tmp_path / "r.json"), ["deploy"])
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["started_at"] == "2026-12-08T02:29:07.123456Z"
    assert written["finished_at"].endswith("Z")  # none of its own: the command's


def test_a_library_call_outside_a_command_writes_the_report_as_it_is(tmp_path: Path) -> None:
    reporting.write_report(Report(passed=True, rows=[]), tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == {"passed": True, "rows": []}


def test_in_actions_an_earlier_steps_report_at_the_same_path_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path = tmp_path / "deploy.json"
    for role in ("api", "web"):
        result = CliRunner().invoke(
            group_with(Report(passed=True, rows=[Row(name=role)]), path, twice=True), ["deploy"]
        )
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["deploy.20261208T023407123Z.json", "deploy.json"]  # written twice by one command: one file
    assert json.loads(path.read_text())["rows"][0]["name"] == "web"
    assert json.loads((tmp_path / files[0]).read_text())["rows"][0]["name"] == "api"


def test_outside_actions_the_report_is_overwritten_and_a_foreign_file_is_never_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    path = tmp_path / "deploy.json"
    for _ in range(2):
        CliRunner().invoke(group_with(Report(passed=True, rows=[]), path), ["deploy"])
    assert [p.name for p in tmp_path.iterdir()] == ["deploy.json"]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path.write_text('{"not": "ours"}')
    CliRunner().invoke(group_with(Report(passed=True, rows=[]), path), ["deploy"])
    assert [p.name for p in tmp_path.iterdir()] == ["deploy.json"]


def test_iso_times_are_utc_with_a_z() -> None:
    assert timing.iso(datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    east = datetime(2026, 1, 2, 5, 4, 5, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert timing.iso(east) == "2026-01-02T05:04:05.000Z"
    assert timing.parse_iso("2026-01-02T03:04:05.678Z") == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    with pytest.raises(ValueError):
        timing.parse_iso("2026-01-02T03:04:05")  # no zone: ambiguous


def test_two_commands_in_one_process_have_their_own_start(tmp_path: Path) -> None:
    """In a real run each step is its own process; in one process the start must come from the CLI edge."""
    from release_kit.cli import run_cli
    from tests.probes.fault_server import FaultServer, serve

    with serve(FaultServer(ready_after=0)) as url:
        for name in ("a", "b"):
            args = ["health", "--url", f"{url}/ready", "--consecutive", "1", "--deadline", "5"]
            assert run_cli([*args, "--report", str(tmp_path / f"{name}.json")]) == 0
            time.sleep(0.05)
    first, second = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("a", "b"))
    assert timing.parse_iso(second["started_at"]) >= timing.parse_iso(first["finished_at"])
