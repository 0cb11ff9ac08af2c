from __future__ import annotations

import re
from pathlib import Path

import pytest

from release_kit import gha
from release_kit.errors import InputError


@pytest.fixture
def actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    return tmp_path


def parse_outputs(text: str) -> dict[str, str]:
    """Read $GITHUB_OUTPUT the way the runner does."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
        else:
            i += 1
    return out


def test_outputs_use_a_random_delimiter_and_keep_multiline_values(actions: Path) -> None:
    gha.set_outputs({"a": "one\ntwo", "b": "x"})
    gha.set_outputs({"b": "y"})
    text = (actions / "output").read_text()
    delimiters = re.findall(r"<<(\S+)", text)
    assert len(set(delimiters)) == 3 and all(len(d) > 30 for d in delimiters)
    assert parse_outputs(text) == {"a": "one\ntwo", "b": "y"}


def test_output_containing_its_delimiter_is_refused(actions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gha.secrets, "token_hex", lambda n: "f" * 32)
    evil = "x\nghadelimiter_" + "f" * 32 + "\ninjected=1"
    with pytest.raises(InputError, match="delimiter"):
        gha.set_outputs({"a": evil})
    assert not (actions / "output").exists() or "injected" not in (actions / "output").read_text()


def test_mask_masks_each_line_of_a_multiline_secret(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gha.mask("-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::AAAAsecretline",
        "::add-mask::-----END KEY-----",
    ]
    assert gha.redact("token AAAAsecretline here") == "token *** here"


def test_redaction_applies_to_outputs_summary_and_annotations(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gha.mask("hunter2-very-secret")
    capsys.readouterr()
    gha.set_outputs({"x": "pw=hunter2-very-secret"})
    gha.add_summary("pw=hunter2-very-secret")
    gha.error("failed with hunter2-very-secret")
    assert "hunter2" not in (actions / "output").read_text()
    assert "hunter2" not in (actions / "summary").read_text()
    assert "hunter2" not in capsys.readouterr().out


def test_annotation_encodes_newlines_and_properties(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gha.error("line one\nline two 100%", title="gate: a,b", file="src/x.py", line=3)
    assert capsys.readouterr().out == "::error file=src/x.py,line=3,title=gate%3A a%2Cb::line one%0Aline two 100%25\n"


def test_summary_stays_under_the_runner_limit(actions: Path) -> None:
    gha.add_summary("a" * 900_000)
    gha.add_summary("b" * 900_000)
    gha.add_summary("c" * 10)
    data = (actions / "summary").read_bytes()
    assert len(data) <= gha.SUMMARY_LIMIT
    assert b"summary truncated" in data
    assert data.startswith(b"a" * 900_000)


def test_plain_text_outside_actions(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gha.mask("s3cr3t-value")
    gha.error("boom s3cr3t-value", title="gate X")
    with gha.group("fetching"):
        pass
    captured = capsys.readouterr()
    assert "::" not in captured.out + captured.err
    assert "error: gate X: boom ***" in captured.err
    assert "== fetching" in captured.err


def test_inputs_come_from_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RK_IMAGE_PREFIX", "  org/app ")
    monkeypatch.setenv("RK_EMPTY", "")
    assert gha.input_env("image-prefix") == "RK_IMAGE_PREFIX"
    assert gha.read_input("image-prefix") == "org/app"
    assert gha.read_input("empty") is None
