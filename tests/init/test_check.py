"""release-kit init --check: every FILL-IN marker left in what init wrote, by file, line and key;
exit 1 while any is left, 0 when none; nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from release_kit.init.check import CONFIG, WORKFLOWS, check

MARKER_LINE = re.compile(r"^  (\.github/[\w./-]+):(\d+): (.+)$")


def _init(repo: Path, *args: str) -> None:
    (repo / ".git").mkdir(exist_ok=True)
    assert run_cli(["init", "--dir", str(repo), "--ref", "0" * 40, *args]) == 0


def _listed(out: str) -> list[tuple[str, int, str]]:
    return [(m[1], int(m[2]), m[3]) for m in map(MARKER_LINE.match, out.splitlines()) if m]


def _snapshot(repo: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in (repo / ".github").rglob("*") if p.is_file()}


def test_check_lists_each_marker_by_file_line_and_key_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(tmp_path)
    capsys.readouterr()
    before = _snapshot(tmp_path)
    assert run_cli(["init", "--check", "--dir", str(tmp_path)]) == 1
    listed = _listed(capsys.readouterr().out)
    assert _snapshot(tmp_path) == before  # --check writes nothing
    keys = {(rel, key) for rel, _, key in listed}
    assert (CONFIG, "deploy.cluster") in keys and (CONFIG, "deploy.migrations.command") in keys
    assert (".github/workflows/release.yml", "input api_dockerfile (job release)") in keys  # no Dockerfile here
    for rel, line, _ in listed:  # each names the line that holds the marker, as a value
        text = (tmp_path / rel).read_text().splitlines()[line - 1]
        assert "FILL-IN" in text.split("#", 1)[0], (rel, line, text)
    # a marker only in a comment (a gate with no workflow) is a note, not a value: not listed
    config = (tmp_path / CONFIG).read_text().splitlines()
    comment_only = [i + 1 for i, t in enumerate(config) if "FILL-IN" in t and "FILL-IN" not in t.split("#", 1)[0]]
    assert comment_only and not {line for rel, line, _ in listed if rel == CONFIG} & set(comment_only)


def test_check_is_0_once_every_marker_is_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(tmp_path, "--registry", "ecr")
    found, _ = check(tmp_path)
    assert any(m.key == "input image_prefix: default (workflow_dispatch)" for m in found)  # ECR's prefix input
    for rel in (CONFIG, *WORKFLOWS):  # the user sets every value (comments may keep the word)
        path = tmp_path / rel
        path.write_text(path.read_text().replace("FILL-IN", "set"))
    capsys.readouterr()
    assert run_cli(["init", "--check", "--dir", str(tmp_path)]) == 0
    assert "No FILL-IN marker left" in capsys.readouterr().out


def test_check_without_init_is_exit_2_and_a_missing_workflow_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    assert run_cli(["init", "--check", "--dir", str(tmp_path)]) == 2
    assert "no .github/release-kit.yml (run release-kit init first)" in capsys.readouterr().err
    _init(tmp_path)
    (tmp_path / ".github/workflows/rollback.yml").unlink()
    capsys.readouterr()
    assert run_cli(["init", "--check", "--dir", str(tmp_path)]) == 1
    assert ".github/workflows/rollback.yml: not there (not checked)" in capsys.readouterr().out


def test_a_broken_file_is_exit_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(tmp_path)
    (tmp_path / ".github/workflows/deploy.yml").write_text("jobs: [\n")
    capsys.readouterr()
    assert run_cli(["init", "--check", "--dir", str(tmp_path)]) == 2
    assert ".github/workflows/deploy.yml:2: not valid YAML" in capsys.readouterr().err
