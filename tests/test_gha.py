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


# -- remote values printed: one function, applied by every writer -------------------------

FORGED = [
    "##[stop-commands]x",
    "text ##[error]forged in the middle",
    "::error::at the start",
    "   ::warning::after spaces",
    "\u3000\u00a0::notice::after unicode spaces",
    "first line\n::set-output name=passed::true",
    "first line\r\n  ##[add-mask]x",
    "###[error]three hashes",
]


def commands_in(text: str) -> list[tuple[str, str]]:
    from tests.fakes import runner

    return runner.commands(text)


@pytest.mark.parametrize("value", FORGED)
def test_inert_leaves_no_runner_command_on_any_line(value: str) -> None:
    shown = gha.inert(value)
    assert "##[" not in shown and "\n" not in shown and "\r" not in shown
    assert not shown.lstrip().startswith("::")
    assert commands_in(shown) == [] and commands_in(f"prefix: {shown}") == []
    kept = gha.inert(value, keep="\n")  # a block keeps its lines, each of them inert
    assert all(not line.lstrip().startswith("::") for line in kept.split("\n")) and commands_in(kept) == []


def test_inert_reads_as_the_characters_it_stands_for() -> None:
    assert gha.inert("##[error]x") == "#\\x23[error]x"
    assert gha.inert("  ::error::x") == "  \\x3a:error::x"
    assert gha.inert("a::b ## [c] #[d]") == "a::b ## [c] #[d]"  # nothing else changes
    assert gha.inert("\x1b[2Jred") == "\\x1b[2Jred"


def test_inert_redacts_before_it_escapes_and_cuts() -> None:
    secret = "s3cret-##[value]-" + "x" * 60 + "-end"
    gha.mask(secret)
    shown = gha.inert(f"token {secret} tail", limit=20)
    assert shown == "token *** tail"
    cut = gha.inert(f"{'a' * 30} {secret} {'b' * 30}", limit=40)
    assert len(cut) == 40 and cut.endswith("…") and "s3cret" not in cut
    assert gha.inert("y" * 100, limit=10) == "y" * 9 + "…"


@pytest.mark.parametrize("in_actions", [True, False])
@pytest.mark.parametrize("value", FORGED)
def test_progress_lines_carry_no_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, in_actions: bool
) -> None:
    if in_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gha.progress(value)
    gha.echo(f"seen: {value}")
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and len(out.splitlines()) == 1
    assert "##[" not in out + err and commands_in(out + err) == []


def test_health_progress_lines_are_inert_whatever_writes_them(capsys: pytest.CaptureFixture[str]) -> None:
    from release_kit.probes.health import Progress

    lines: list[str] = []
    Progress(lines.append).line("health: x: redirect 302 to ##[stop-commands]x")
    Progress().line("::error::forged\n##[error]forged")
    err = capsys.readouterr().err
    assert lines == ["health: x: redirect 302 to #\\x23[stop-commands]x"]
    assert err == "\\x3a:error::forged\\x0a#\\x23[error]forged\n" and commands_in(err) == []


def test_annotations_and_group_titles_carry_no_remote_command(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gha.error("reason: ##[stop-commands]x\n::error::second", title="gate ##[error]t")
    gha.annotate("warning", "w ##[add-mask]y", file="a##[b].py", line=1)
    with gha.group("push ##[stop-commands]x"):
        pass
    out = capsys.readouterr().out
    assert "##[" not in out
    assert [n for n, _ in commands_in(out)] == ["error", "warning", "group", "endgroup"]
    error = commands_in(out)[0][1]
    assert error == "reason: #\\x23[stop-commands]x\n\\x3a:error::second"  # one annotation, two lines, inert


def test_an_over_long_annotation_is_cut(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gha.error("m" * 20_000, title="t" * 1000)
    ((name, data),) = commands_in(capsys.readouterr().out)
    assert name == "error" and len(data) == gha.MESSAGE_LIMIT


def test_the_step_summary_carries_no_runner_command(actions: Path) -> None:
    gha.add_summary("| a |\n| --- |\n| ##[stop-commands]x |\n::error::x\n")
    text = (actions / "summary").read_text()
    assert "##[" not in text and "\n::" not in text and text.count("\n") == 4


def test_text_blocks_are_inert_inside_and_outside_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    block = "NAME  REASON\napp   ##[stop-commands]x\n::error::row"
    gha.echo_untrusted(block)
    plain = capsys.readouterr().out
    assert plain == "NAME  REASON\napp   #\\x23[stop-commands]x\n\\x3a:error::row\n"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gha.echo_untrusted(block)
    wrapped = capsys.readouterr().out
    assert "##[" not in wrapped and commands_in(wrapped) == [] and plain.rstrip("\n") in wrapped
