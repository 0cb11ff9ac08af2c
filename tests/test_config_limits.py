"""Reading .github/release-kit.yml: bounded in size, nesting and alias expansion, and parsed once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from release_kit.errors import ConfigError

GOOD = "gates:\n  gates:\n    - name: CI\n"


def gates_exit(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1", "--config", str(path)])
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return code, err


@pytest.mark.parametrize("size", [config.MAX_BYTES + 1, 8 * config.MAX_BYTES])
def test_a_file_over_1_mib_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    path = tmp_path / "big.yml"
    path.write_text(GOOD + "#" * (size - len(GOOD)))
    composed: list[object] = []
    monkeypatch.setattr(yaml.composer.Composer, "compose_document", lambda self: composed.append(1))
    code, err = gates_exit(path, capsys)
    assert code == 2 and "big.yml: larger than 1 MiB" in err and composed == []


def test_a_file_of_exactly_1_mib_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text(GOOD + "#" * (config.MAX_BYTES - len(GOOD)))
    assert config.load(path) is not None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("gates: " + "[" * 100_000, 1),  # flow sequences
        ("gates: " + "{a: " * 5_000, 1),  # flow mappings
        ("gates:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), 64),  # block mappings
        ("gates:\n" + "".join("  " * i + "-\n" for i in range(1, 200)), 65),  # block sequences
    ],
    ids=["flow-seq", "flow-map", "block-map", "block-seq"],
)
def test_deep_nesting_is_exit_2_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int
) -> None:
    path = tmp_path / "deep.yml"
    path.write_text(text)
    code, err = gates_exit(path, capsys)
    assert code == 2 and f"deep.yml:{line}: nested deeper than 64 levels" in err


def test_aliases_that_expand_exponentially_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = "abcdefghij"
    text = "x:\n" + "".join(
        f"  {n}: &{n} [" + ", ".join([f"*{names[i - 1]}" if i else "1"] * 10) + "]\n" for i, n in enumerate(names)
    )
    path = tmp_path / "laughs.yml"
    path.write_text(text)
    code, err = gates_exit(path, capsys)
    assert code == 2 and "aliases expand to more than 100000 values" in err


def test_modest_aliases_still_work() -> None:
    text = "gates:\n  gates:\n    - name: A\n      events: &ev [push, schedule]\n    - name: B\n      events: *ev\n"
    parsed = config.parse(text, "x.yml")
    assert parsed.gates is not None and [g.events for g in parsed.gates.gates] == [["push", "schedule"]] * 2


def test_the_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = yaml.composer.Composer.compose_document

    def counting(self: yaml.composer.Composer) -> object:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(yaml.composer.Composer, "compose_document", counting)
    with pytest.raises(ConfigError, match=r"x.yml:3: "):  # an error still finds its line from the same parse
        config.parse("gates:\n  gates:\n    - bogus: 1\n", "x.yml")
    assert calls == [1]


def test_a_folder_or_undecodable_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="is a folder, expected a YAML file"):
        config.load(tmp_path)
    (tmp_path / "bin.yml").write_bytes(b"gates: \xff\xfe\n")
    code, err = gates_exit(tmp_path / "bin.yml", capsys)
    assert code == 2 and "cannot read it" in err
