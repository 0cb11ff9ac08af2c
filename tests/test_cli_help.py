"""The CLI explains itself: help without a command, commands in runbook order, an example per command."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from release_kit.cli import COMMANDS, cli, run_cli

RUNBOOK = {
    "Set-up": ["init", "schema"],
    "Release": ["verify-gates", "publish-images", "release", "verify-release"],
    "Deploy": ["preflight", "migrate", "deploy", "health", "smoke", "record", "last-good", "rollback"],
    "Evidence": ["summary"],
}


@pytest.mark.parametrize(
    ("args", "usage"), [([], "Usage: release-kit [OPTIONS]"), (["release"], "release-kit release")]
)
def test_no_command_prints_the_formatted_help_and_exits_0(
    capsys: pytest.CaptureFixture[str], args: list[str], usage: str
) -> None:
    assert run_cli(args) == 0
    captured = capsys.readouterr()
    assert usage in captured.out and captured.err == ""
    assert len(captured.out.splitlines()) > 8  # the help as click formats it, not squashed into one error line


def test_the_root_help_lists_the_commands_by_group_in_runbook_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    found: dict[str, list[str]] = {}
    section = None
    for line in lines:
        if line.endswith(" commands:"):
            section = line.removesuffix(" commands:")
            found[section] = []
        elif section and line.startswith("  ") and not line.startswith("   ") and line.strip():
            found[section].append(line.split()[0])  # a name; the lines under it continue its help
        elif not line.strip():
            section = None
    assert found == RUNBOOK


def test_every_command_registered_has_an_example_at_the_end_of_its_help() -> None:
    ctx = cli.make_context("release-kit", ["--help"], resilient_parsing=True)
    names = cli.list_commands(ctx)
    assert names == [n for rows in RUNBOOK.values() for n in rows] == [n for r in COMMANDS.values() for n, _, _ in r]
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None
        subs = list(command.commands.values()) if hasattr(command, "commands") else []
        for each in [command, *subs]:
            with click_context(each) as sub_ctx:
                text = each.get_help(sub_ctx).rstrip()
            last = text.splitlines()[-1].strip()
            assert text.splitlines()[-2].strip() == "Example:", f"{name} {each.name}: {text[-200:]}"
            assert last.startswith(f"release-kit {name}"), last


def click_context(command: click.Command) -> click.Context:
    # the root group's help option names: click caches a command's help option on first use, so a
    # context without them would leave a `--help`-only option behind for every later reader
    return click.Context(command, info_name=command.name, help_option_names=["-h", "--help"])


def test_a_command_imports_only_its_own_declarations() -> None:
    code = (
        "import sys\nfrom release_kit.cli import run_cli\n"
        "run_cli(['verify-gates', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('release_kit.') and m.endswith('.cli')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "['release_kit.cli', 'release_kit.gates.cli']"


def test_the_repo_option_says_what_it_falls_back_to(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["verify-gates", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Required unless $GITHUB_REPOSITORY is set or (outside Actions) the origin remote is on GitHub" in text
    assert "Required unless $GITHUB_SHA is set or (outside Actions) the checkout's HEAD" in text


def test_the_root_help_imports_only_click_and_the_declarations() -> None:
    code = (
        "import sys\nfrom release_kit.cli import run_cli\n"
        "assert run_cli(['--help']) == 0\n"
        "heavy = {'pydantic', 'httpx', 'yaml', 'boto3', 'botocore', 'azure', 'cryptography', 'sigstore', 'jmespath'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
