"""The command line as users meet it: start-up cost, exit codes, one-line errors, no leaks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from release_kit.cli import run_cli
from tests.fakes.github import FakeGitHub, green_runbook, serve
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "ghp_ThisIsAFakeTokenForTests0123456789"


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = (
        "import sys, release_kit.cli\n"
        "heavy = {'boto3', 'botocore', 'azure', 'github', 'cryptography', 'httpx', 'pydantic'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_help_answers_fast() -> None:
    import time

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "release_kit", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "verify-gates" in done.stdout
    assert time.perf_counter() - start < 1.0


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    green_runbook(fake)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield fake


def test_verify_gates_over_http_honours_github_api_url(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", "v1.4.0", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True and len(report["gates"]) == 9
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in github.requests)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--repo", "not-a-repo"], "--repo 'not-a-repo' is not a repository: expected OWNER/NAME"),
        (
            ["--repo", "octo-org/app", "--ref", "v9.9.9"],
            "--ref 'v9.9.9': no such tag, branch or commit in octo-org/app",
        ),
        (["--repo", "octo-org/missing"], "--repo octo-org/missing: repository not found"),
        (["--repo", "octo-org/app", "--wait", "-1"], "Invalid value for '--wait'"),
        (["--repo", "octo-org/app", "--config", "nope.yml"], "--config nope.yml: no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code = run_cli(["verify-gates", "--ref", "v1.4.0", *args] if "--ref" not in args else ["verify-gates", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_config_names_file_and_line(github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "rk.yml"
    cfg.write_text("gates:\n  gates:\n    - name: CI\n      colour: red\n")
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0", "--config", str(cfg)]) == 2
    assert f"{cfg}:4: unknown key 'gates.gates.0.colour'" in capsys.readouterr().err


def test_bad_token_is_exit_2_and_never_printed(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    github.fail_with_fixture("*", r"/repos/", "ANY.401.bad_credentials.json", times=100)
    code = run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"])
    captured = capsys.readouterr()
    assert code == 2
    assert "GitHub rejected the token (401 Bad credentials)" in captured.err
    assert TOKEN not in captured.out + captured.err


def test_remote_giving_up_is_exit_3(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELEASE_KIT_RETRY_BUDGET", "0")
    github.fail("GET", r"/actions/workflows$", 502, body={"message": "Server Error"}, times=100)
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"]) == 3
    assert "gave up" in capsys.readouterr().err


def test_in_actions_outputs_summary_annotations_and_masking(
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run the way verify-gates/action.yml does: inputs as RK_* env vars."""
    run = next(r for r in github.runs if r["name"] == "Backend CI")
    run["conclusion"] = "failure"
    action = yaml.safe_load((ROOT / "verify-gates/action.yml").read_text())
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.setenv("RK_REPO", "octo-org/app")
    monkeypatch.setenv("RK_REF", "v1.4.0")
    monkeypatch.setenv("RK_CONFIG", "")
    monkeypatch.setenv("RK_WAIT", "0")
    monkeypatch.setenv("RK_TOKEN", TOKEN)
    assert run_cli(["verify-gates"]) == 1
    out = capsys.readouterr().out
    outputs = parse_outputs((tmp_path / "out").read_text())
    assert set(outputs) == set(action["outputs"])
    assert outputs["passed"] == "false" and len(outputs["sha"]) == 40
    report = json.loads(Path(outputs["report"]).read_text())
    assert report["passed"] is False
    assert out.startswith(f"::add-mask::{TOKEN}\n")
    assert "::error title=gate Backend CI%3A fail::" in out
    summary = (tmp_path / "summary.md").read_text()
    assert "| Backend CI | ❌ fail |" in summary and run["html_url"] in summary
    assert TOKEN not in out.replace(f"::add-mask::{TOKEN}", "") + summary + json.dumps(report)


def test_token_without_actions_read_is_exit_2_with_the_fix(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail("GET", r"/actions/workflows$", 403, body={"message": "Resource not accessible by integration"})
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"]) == 2
    err = capsys.readouterr().err
    assert "Resource not accessible by integration" in err and "permissions: actions: read" in err


def test_debug_env_shows_the_traceback(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v9"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    monkeypatch.setenv("RELEASE_KIT_DEBUG", "1")
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v9"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_an_error_from_a_remote_cannot_send_terminal_escapes(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail("GET", r"/actions/workflows$", 403, body={"message": "denied \x1b]0;owned\x07\x1b[2J by policy"})
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "denied \\x1b]0;owned" in err
