"""Flags as users type them: durations in the config's syntax, --repo as a URL, usage hints that
name the real command, exit code 70 in the help, actions that say they need Linux."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from release_kit.cli import run_cli
from release_kit.gates.policy import Gate
from release_kit.params import DurationType, normalize_repo
from tests.fakes.github import FakeGitHub, green_runbook, serve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    green_runbook(fake)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        yield fake


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("0", 0), ("45", 45)])
def test_wait_takes_the_config_duration_forms(text: str, seconds: float) -> None:
    assert DurationType(maximum=6 * 3600).convert(text, None, None) == seconds
    assert Gate(name="x", schedule_max_age=text).schedule_max_age == timedelta(seconds=seconds)


def test_wait_15m_runs_and_a_bad_duration_is_exit_2(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", "v1.4.0", "--wait", "15m"]) == 0
    capsys.readouterr()
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", "v1.4.0", "--wait", "15 minutes"]) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--wait': '15 minutes': expected a duration such as 90s, 15m" in err
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", "v1.4.0", "--wait", "7h"]) == 2
    assert "'7h': at most 6h" in capsys.readouterr().err


def test_wait_from_the_action_input_takes_durations(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RK_WAIT", "10m")
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", "v1.4.0"]) == 0


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/octo-org/app",
        "https://github.com/octo-org/app.git",
        "https://github.com/octo-org/app/",
        "git@github.com:octo-org/app.git",
        "octo-org/app.git",
    ],
)
def test_repo_as_a_url_is_accepted(github: FakeGitHub, capsys: pytest.CaptureFixture[str], repo: str) -> None:
    assert run_cli(["verify-gates", "--repo", repo, "--ref", "v1.4.0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["repository"] == "octo-org/app"


def test_a_github_com_url_while_talking_to_another_server_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3")
    with pytest.raises(ValueError, match=r"is on github.com, but this run talks to ghe.example.com .*unset them"):
        normalize_repo("https://github.com/octo-org/app")


def test_repo_url_of_an_enterprise_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://ghe.example.com")
    assert normalize_repo("https://ghe.example.com/octo-org/app.git") == "octo-org/app"
    monkeypatch.delenv("GITHUB_SERVER_URL")
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3")
    assert normalize_repo("https://GHE.example.com/octo-org/app") == "octo-org/app"


@pytest.mark.parametrize(
    ("repo", "expected"),
    [
        (
            "https://ghe.example.com/octo-org/app",
            "is on ghe.example.com, but this run talks to github.com: "
            "for GitHub Enterprise Server set GITHUB_API_URL=https://ghe.example.com/api/v3",
        ),
        (
            "https://github.com/octo-org/app/tree/main",
            "expected OWNER/NAME or https://HOST/OWNER/NAME (the repository itself, not a page inside it)",
        ),
        ("ftp://github.com/octo-org/app", "expected OWNER/NAME or https://HOST/OWNER/NAME"),
    ],
)
def test_a_repo_url_that_cannot_be_used_is_exit_2(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], repo: str, expected: str
) -> None:
    assert run_cli(["verify-release", "--repo", repo, "--tag", "v1.4.0"]) == 2
    err = capsys.readouterr().err
    assert f"Invalid value for '--repo': '{repo}'" in err and expected in err
    assert len(err.strip().splitlines()) == 1


def test_repo_url_is_accepted_by_release_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """release plan reads --repo too (here it stops later, at the missing assets folder)."""
    args = ["--repo", "https://github.com/octo-org/app", "--tag", "v1.4.0", "--frontend", "web", "--assets-dir", "nope"]
    code = run_cli(["release", "plan", *args])
    err = capsys.readouterr().err
    assert code == 2 and "--repo" not in err and "--assets-dir nope: no such folder" in err


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["release", "build", "--bogus"], "release-kit release build"),
        (["verify-gates", "--bogus"], "release-kit verify-gates"),
        (["bogus"], "release-kit"),
    ],
)
def test_usage_hints_name_the_real_command(capsys: pytest.CaptureFixture[str], args: list[str], command: str) -> None:
    assert run_cli(args) == 2
    assert f"(see '{command} --help')" in capsys.readouterr().err


def test_top_level_help_lists_every_exit_code() -> None:
    done = subprocess.run([sys.executable, "-m", "release_kit", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(done.stdout.split())
    for code in ("0 success", "1 what was verified is not OK", "2 usage", "3 a remote gave up", "70 internal error"):
        assert code in text


@pytest.mark.parametrize("action", ["verify-gates", "publish-images", "release", "verify-release"])
def test_each_action_says_it_needs_a_linux_runner(action: str) -> None:
    description = yaml.safe_load((ROOT / action / "action.yml").read_text())["description"]
    assert "Needs a Linux runner." in description
