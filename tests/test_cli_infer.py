"""On a laptop, --repo comes from the origin remote and verify-gates' --ref from HEAD, said on stderr;
in Actions nothing is guessed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from tests.fakes.github import FakeGitHub, green_runbook, serve

TOKEN = "ghp_ThisIsAFakeTokenForTests0123456789"


def scratch_checkout(folder: Path, origin: str | None) -> str:
    """A git repository with one commit (and an ``origin`` remote): its HEAD commit."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    (folder / "README").write_text("x\n")
    git("add", "README")
    git("commit", "-q", "-m", "first")
    if origin is not None:
        git("remote", "add", "origin", origin)
    return git("rev-parse", "HEAD")


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    green_runbook(fake)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield fake


@pytest.mark.parametrize(
    "origin",
    ["https://github.com/octo-org/app.git", "git@github.com:octo-org/app.git", "ssh://git@github.com/octo-org/app"],
)
def test_repo_comes_from_the_origin_remote(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], origin: str
) -> None:
    scratch_checkout(Path.cwd(), origin)
    assert run_cli(["verify-gates", "--ref", "v1.4.0", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["repository"] == "octo-org/app"
    assert captured.err.strip() == "release-kit: --repo octo-org/app (from the origin remote)"


def test_an_enterprise_server_origin_is_honoured(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://ghe.example.com")
    scratch_checkout(Path.cwd(), "https://ghe.example.com/octo-org/app.git")
    assert run_cli(["verify-gates", "--ref", "v1.4.0"]) == 0


def test_ref_comes_from_head(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    head = scratch_checkout(Path.cwd(), "https://github.com/octo-org/app")
    github.add_commit(head)  # pushed: GitHub knows it (no gate ran on it, so the verdict is red)
    assert run_cli(["verify-gates", "--format", "json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["ref"] == head and report["sha"] == head
    said = captured.err.splitlines()
    assert said[:2] == [
        "release-kit: --repo octo-org/app (from the origin remote)",
        f"release-kit: --ref {head} (HEAD of the checkout; it must be pushed for GitHub to know it)",
    ]
    assert any(f"/commits/{head}" in str(r.url) for r in github.requests)


def test_given_flags_win_and_nothing_is_said(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    scratch_checkout(Path.cwd(), "https://github.com/someone/else")
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"]) == 0
    assert "release-kit: --" not in capsys.readouterr().err


def test_in_actions_nothing_is_guessed(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scratch_checkout(Path.cwd(), "https://github.com/octo-org/app")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert run_cli(["verify-gates", "--ref", "v1.4.0"]) == 2
    assert "--repo is required" in capsys.readouterr().out  # in Actions errors are annotations on stdout
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/app")
    assert run_cli(["verify-gates"]) == 2
    assert "--ref is required" in capsys.readouterr().out


def test_outside_a_checkout_the_error_says_why(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["verify-gates", "--ref", "v1.4.0"]) == 2
    err = capsys.readouterr().err
    assert "--repo is required: expected OWNER/NAME (or set GITHUB_REPOSITORY); no origin remote here" in err


def test_an_origin_elsewhere_is_refused_without_its_credentials(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    scratch_checkout(Path.cwd(), "https://oauth2:glpat-SECRET123@gitlab.com/group/app.git")
    assert run_cli(["verify-gates", "--ref", "v1.4.0"]) == 2
    err = capsys.readouterr().err
    assert "the origin remote is not usable" in err and "gitlab.com" in err
    assert "SECRET" not in err and "oauth2" not in err
    assert not github.requests


@pytest.mark.parametrize("args", [["verify-release", "--tag", "v1.4.0"], ["last-good", "--environment", "production"]])
def test_every_github_command_takes_repo_from_the_origin(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    scratch_checkout(Path.cwd(), "https://github.com/octo-org/app")
    run_cli(args)
    assert "release-kit: --repo octo-org/app (from the origin remote)" in capsys.readouterr().err.splitlines()
