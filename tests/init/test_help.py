"""What a new user reads in --help on the way from init to the first deploy: required options marked
(never by click's required=True, which would refuse a value from the environment or the config), the
release sub-commands in the order they run, init's --check."""

from __future__ import annotations

import re

import pytest

from release_kit.cli import run_cli


def _help(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    assert run_cli([*command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # one line: click wraps option help


@pytest.mark.parametrize(
    ("command", "marks"),
    [
        (["record"], ["--environment TEXT Required.", "--state success|failure Required.", "--ref TEXT"]),
        (["last-good"], ["--environment TEXT Required."]),
        (["rollback"], ["--environment TEXT Required."]),
        (["migrate"], ["--command TEXT Required unless deploy.migrations.command is set."]),
        (["release", "build"], ["--tag TEXT The v* tag. build: required unless $GITHUB_REF is a tag"]),
    ],
)
def test_required_options_are_marked(command: list[str], marks: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, *command)
    for mark in marks:
        assert mark in text, (command, mark)


@pytest.mark.parametrize("command", ["record", "deploy"])
def test_one_of_image_or_images_from_is_marked_on_both(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, command)
    assert text.count("Required: one of --image or --images-from.") == 2


def test_record_ref_says_when_it_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert "Required unless run for a tag ($GITHUB_REF_NAME) or $GITHUB_SHA is set." in _help(capsys, "record")


def test_the_environment_still_comes_from_its_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marked, not click-required: RK_ENVIRONMENT still gives --environment (a bad --to is the error)."""
    monkeypatch.setenv("RK_ENVIRONMENT", "production")
    assert run_cli(["last-good", "--repo", "octo-org/app", "--to", "not a ref"]) == 2
    err = capsys.readouterr().err
    assert "--to 'not a ref'" in err and "Missing option" not in err


def test_release_lists_build_plan_upload_publish_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["release", "--help"]) == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^  (build|plan|upload|publish) ", out, re.M)
    assert listed == ["build", "plan", "upload", "publish"]


def test_init_help_names_check_and_the_setup_file(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "init")
    assert "--check Write nothing: list every FILL-IN marker" in text and ".github/release-kit-setup.md" in text
